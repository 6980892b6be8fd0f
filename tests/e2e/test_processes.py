"""`conductor server --processes 2`: two server processes on one port under one supervisor.

Connections opened one after another reach both processes (the kernel spreads them with
SO_REUSEPORT; /health names the process that answered). Three-task workflows run to completion
with workers polling the shared port while one process is SIGKILLed: the supervisor starts
another, the work completes, and SIGTERM to the supervisor stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from conductor.testing.server_process import ServerProcess, free_port
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import (
    REFS,
    Ledger,
    LedgerWorker,
    check_all,
    start_workflows,
    task_defs,
    three_task_workflow,
    wait_all_completed,
)
from workers import Backoff, ConductorClient, TaskRunner

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        sys.platform != "linux" or not hasattr(socket, "SO_REUSEPORT"),
        reason="several processes on one port need SO_REUSEPORT; the test reads /proc",
    ),
]

WORKFLOWS = 150
KILL_AT_DELIVERIES = 100
PREFIX = "e2e_procs"
NAME = "e2e_procs_flow"


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class Answerers:
    """The pids that answer /health, each asked over a new connection."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.seen: set[int] = set()

    async def ask(self, times: int = 20) -> set[int]:
        found = set()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(times):
                try:
                    async with session.get(f"{self.server.url}/health") as resp:
                        if resp.status == 200:
                            found.add(int(resp.headers["X-Conductor-Pid"]))
                except aiohttp.ClientError:
                    continue  # a process being replaced
        self.seen |= found
        return found


async def test_two_processes_share_the_port_survive_a_kill_and_stop_together(
    servers: Servers,
) -> None:
    (server,) = servers.start(1, args=["--processes", "2"])
    supervisor = server.pid
    assert supervisor is not None
    answerers = Answerers(server)
    serving: set[int] = set()

    async def both_serve() -> bool:
        nonlocal serving
        serving = await answerers.ask()
        return len(serving) == 2

    await wait_until(both_serve, timeout=30)
    assert all(_parent_of(pid) == supervisor for pid in serving), serving

    ledger = Ledger()
    async with ConductorClient(server.api) as admin:
        # A task whose poll answer or result died with its process comes back after 3 s.
        await admin.register_task_defs(
            task_defs(PREFIX, retryCount=3, retryDelaySeconds=0, responseTimeoutSeconds=3)
        )
        await admin.register_workflow_def(three_task_workflow(NAME, PREFIX))
        workflow_ids = await start_workflows([admin], NAME, WORKFLOWS)

    client = ConductorClient(server.api)
    workers = [LedgerWorker(f"{PREFIX}_{ref[0]}", ledger, "procs-worker") for ref in REFS]
    runner = TaskRunner(client, workers, "procs-worker", poll_backoff=Backoff(base=0.1, cap=1.0))
    running = asyncio.create_task(runner.run())
    try:

        async def under_way() -> bool:
            return len(ledger) >= KILL_AT_DELIVERIES

        await wait_until(under_way, timeout=60)
        victim, survivor = sorted(serving)
        os.kill(victim, signal.SIGKILL)

        async def replaced() -> bool:
            nonlocal serving
            serving = await answerers.ask()
            return len(serving) == 2 and victim not in serving

        await wait_until(replaced, timeout=30)
        assert survivor in serving
        async with ConductorClient(server.api) as admin:
            await wait_all_completed(admin, workflow_ids, timeout=90)
            await check_all(admin, workflow_ids, ledger)
    finally:
        await runner.stop(grace_seconds=5)
        await running
        await client.close()
    assert "was killed by SIGKILL; starting another" in server.log_path.read_text()

    started = answerers.seen
    assert server.stop() == 0
    assert all(_gone(pid) for pid in started), [pid for pid in started if not _gone(pid)]


def test_a_process_refusing_to_start_stops_the_supervisor(db_dsn: str) -> None:
    """Each process refuses a non-loopback address without API keys; the supervisor stops with
    the same status and says so."""
    command = [sys.executable, "-m", "conductor", "server", "--processes", "2"]
    command += ["--host", "0.0.0.0", "--port", str(free_port()), "--database-url", db_dsn]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "refusing to listen on 0.0.0.0" in done.stderr
    assert "refused to start" in done.stderr
