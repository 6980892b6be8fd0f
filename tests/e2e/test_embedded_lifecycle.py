"""The embedded PostgreSQL is stopped by the server that uses it, even after an earlier server
on the same data folder was killed outright (its stale handle used to keep PostgreSQL alive)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conductor.testing.server_process import free_port
from tests.e2e.harness import wait_until_sync

pytestmark = [pytest.mark.e2e, pytest.mark.once]


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "conductor", "server", "--port", str(port)),
            *("--data-dir", str(data_dir), "--log-level", "WARNING"),
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_sync(lambda: healthy(port), 120.0, interval=0.2, what="the server answers")
    return process


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def postmaster(data_dir: Path) -> int | None:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def test_a_clean_stop_after_a_kill_stops_postgres(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    try:
        first = start_server(data_dir, free_port())
        first.kill()  # no clean-up at all: its pid stays in the wheel's handle list
        first.wait(timeout=30)
        survivor = postmaster(data_dir)
        assert survivor is not None  # PostgreSQL outlived the killed server, as it does

        second = start_server(data_dir, free_port())
        assert postmaster(data_dir) == survivor  # attached to it, not a second one
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
        wait_until_sync(lambda: postmaster(data_dir) is None, 30.0, what="PostgreSQL stops")
    finally:
        left = postmaster(data_dir)
        if left is not None:  # the test failed: leave no PostgreSQL behind
            os.kill(left, signal.SIGTERM)


@pytest.mark.skipif(os.geteuid() != 0, reason="the wheel changes permissions only as root")
def test_as_root_the_folders_above_the_data_are_opened_for_traversal_only(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    data_dir = private / "data"
    server = start_server(data_dir, free_port())
    try:
        mode = private.stat().st_mode
        assert mode & stat.S_IXOTH  # PostgreSQL's own user can reach its data folder
        assert not mode & stat.S_IROTH  # but nobody may list what else lies there
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        wait_until_sync(lambda: postmaster(data_dir) is None, 30.0, what="PostgreSQL stops")
