"""A start that cannot work says why in one line, quickly, before setting anything up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conductor.testing.databases import with_database
from conductor.testing.server_process import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.once]

# A failed start must answer within this beyond what the interpreter and our imports take on
# this machine right now (`conductor --version`, timed just before): 2 s in all on a quiet
# machine, where the imports take about 1.5 s. Timed against that, not against a fixed 2 s, it
# holds on a machine busy with other work too, and still fails a start that hangs.
CHECKS_BUDGET_S = 1.0


def _run(tmp_path: Path, args: list[str], env: dict[str, str] | None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    environment.update(env or {})
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conductor", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, time.monotonic() - began


def _start_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    """(the finished process, the seconds it took beyond a bare start of the interpreter)."""
    _, bare = _run(tmp_path, ["--version"], env)
    done, seconds = _run(tmp_path, ["server", "--data-dir", str(tmp_path / "data"), *args], env)
    return done, seconds - bare


def test_a_busy_port_is_one_line_and_no_data_folder(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done, seconds = _start_server(tmp_path, "--port", str(port))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"conductor: port {port} on 127.0.0.1 is already in use: stop what listens there"
        " or choose another with --port (CONDUCTOR_PORT)"
    ]
    assert seconds < CHECKS_BUDGET_S
    assert not (tmp_path / "data").exists()


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    url = f"postgresql://billing:s3cret@127.0.0.1:{dead_port}/conductor"
    done, seconds = _start_server(
        tmp_path, "--port", str(free_port()), env={"CONDUCTOR_DATABASE_URL": url}
    )
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(
        f"conductor: cannot connect to the database at postgresql://billing:***@127.0.0.1:{dead_port}"
    )
    assert "s3cret" not in done.stderr
    assert seconds < CHECKS_BUDGET_S
    assert not (tmp_path / "data").exists()


def test_a_database_that_refuses_the_login_is_one_line(tmp_path: Path, db_dsn: str) -> None:
    wrong_database = with_database(db_dsn, "no_such_database_here")
    done, seconds = _start_server(
        tmp_path, "--port", str(free_port()), env={"CONDUCTOR_DATABASE_URL": wrong_database}
    )
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "no_such_database_here" in line and "does not exist" in line
    assert seconds < CHECKS_BUDGET_S


def test_a_clean_start_says_where_it_listens_and_warns_of_nothing(tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    process = subprocess.Popen(
        [sys.executable, "-W", "default", "-m", "conductor", "server", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "listening on" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    listening = [line for line in lines if "listening on" in line]
    assert listening, "\n".join(lines)
    assert f"http://127.0.0.1:{port}" in listening[0]
    assert f"embedded PostgreSQL in {tmp_path / '.conductor-data'}" in listening[0]
    assert "version " in listening[0]
    assert not [line for line in lines if "Warning" in line or " WARNING " in line], lines
    # The embedded database's set-up output is DEBUG only: the start is a handful of lines.
    assert len(lines) < 25, lines
