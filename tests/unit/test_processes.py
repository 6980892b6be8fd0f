"""`--processes N`: the setting, its refusals, and the supervisor's care of its processes.

The supervisor's tests run real processes (small Python commands standing in for servers), so
starting, restarting, stopping and giving up are the operating system's, not a fake's.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from conductor import cli, processes
from conductor.config import Settings, SettingsError
from conductor.errors import StartupRefused
from conductor.processes import ServerProcesses
from tests.conftest import wait_until


def test_one_process_unless_told_otherwise(monkeypatch) -> None:
    monkeypatch.delenv("CONDUCTOR_PROCESSES", raising=False)
    assert Settings.from_env().processes == 1


def test_processes_come_from_the_environment_and_the_option_wins(monkeypatch) -> None:
    monkeypatch.setenv("CONDUCTOR_PROCESSES", "3")
    assert Settings.from_env().processes == 3
    args = cli._parser().parse_args(["server", "--processes", "2"])
    assert Settings.from_env(processes=args.processes).processes == 2


def test_the_last_processes_option_wins() -> None:
    """What the supervisor relies on: its own command line, then `--processes 1`, for each
    process it starts."""
    args = cli._parser().parse_args(["server", "--processes", "4", "--processes", "1"])
    assert args.processes == 1


@pytest.mark.parametrize("count", [0, -2])
def test_fewer_than_one_process_is_refused(count: int) -> None:
    with pytest.raises(SettingsError, match="must be 1 or more"):
        processes.check(Settings(processes=count))


def test_the_virtual_clock_is_refused_with_several_processes() -> None:
    processes.check(Settings(processes=1, virtual_clock=True))
    with pytest.raises(StartupRefused, match="--virtual-clock"):
        processes.check(Settings(processes=2, virtual_clock=True))


def test_several_processes_are_refused_without_so_reuseport(monkeypatch) -> None:
    monkeypatch.delattr(socket, "SO_REUSEPORT", raising=False)
    processes.check(Settings(processes=1))
    with pytest.raises(StartupRefused, match="SO_REUSEPORT"):
        processes.check(Settings(processes=2))


def test_the_command_refuses_zero_processes(capsys) -> None:
    assert cli.main(["server", "--processes", "0"]) == 2
    assert "must be 1 or more, not 0" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT here")
def test_the_command_refuses_a_port_in_use_before_touching_the_database(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The URL leads nowhere: the refusal must come before any connection.
        argv = ["server", "--processes", "2", "--port", str(port)]
        status = cli.main([*argv, "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
    assert status == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_the_pool_is_shared_out_among_the_processes() -> None:
    assert [processes.pool_share(20, n) for n in (1, 2, 3, 16)] == [20, 10, 7, 2]
    # Each process also has its timer pool (6) and two wake-up connections.
    assert processes.connections_needed(Settings(processes=2)) == 2 * (10 + 6 + 2)
    assert processes.connections_needed(Settings(processes=1)) == 20 + 6 + 2


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _copies(command: list[str], count: int = 2, **options: Any) -> ServerProcesses:
    timing = {"first_backoff_s": 0.01, "max_backoff_s": 0.05, **options}
    return ServerProcesses(command, dict(os.environ), count, asyncio.Event(), **timing)


async def test_a_process_that_dies_is_replaced_and_all_stop_when_asked() -> None:
    copies = _copies(_python("import signal; signal.pause()"))
    running = asyncio.create_task(copies.run())

    async def both_up() -> bool:
        return len(copies.pids) == 2

    await wait_until(both_up)
    first = copies.pids
    os.kill(first[0], signal.SIGKILL)

    async def replaced() -> bool:
        return len(copies.pids) == 2 and first[0] not in copies.pids

    await wait_until(replaced)
    assert first[1] in copies.pids
    survivors = copies.pids
    copies.stopping.set()
    await asyncio.wait_for(running, 10)
    assert all(_gone(pid) for pid in first + survivors)


async def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    code = (
        "import os, signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f" open(os.path.join({str(tmp_path)!r}, str(os.getpid())), 'w').close(); signal.pause()"
    )
    copies = _copies(_python(code), count=1, stop_grace_s=0.2)
    running = asyncio.create_task(copies.run())

    async def ignoring() -> bool:
        return bool(copies.pids) and (tmp_path / str(copies.pids[0])).exists()

    await wait_until(ignoring)
    pid = copies.pids[0]
    copies.stopping.set()
    await asyncio.wait_for(running, 10)
    assert _gone(pid)


async def test_processes_that_keep_failing_at_start_stop_the_supervisor() -> None:
    copies = _copies(_python("import sys; sys.exit(1)"), max_failed_starts=3)
    gave_up = re.escape("3 times in a row (last: exited with status 1)")
    with pytest.raises(StartupRefused, match=gave_up):
        await asyncio.wait_for(copies.run(), 20)
    assert copies.stopping.is_set()
    assert copies.pids == []


async def test_a_process_that_refuses_to_start_stops_the_others_at_once(tmp_path: Path) -> None:
    """One copy refuses (status 2, as `conductor server` does for StartupRefused); the other,
    healthy, is stopped rather than left serving alone."""
    first = tmp_path / "first"
    code = (
        "import os, signal, sys\n"
        f"try: os.open({str(first)!r}, os.O_CREAT | os.O_EXCL)\n"
        "except FileExistsError: sys.exit(2)\n"
        "signal.pause()\n"
    )
    copies = _copies(_python(code), max_failed_starts=100)
    with pytest.raises(StartupRefused, match="refused to start"):
        await asyncio.wait_for(copies.run(), 20)
    assert copies.pids == []
