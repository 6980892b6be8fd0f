"""R2: PostgreSQL stops at once under load and comes back; the server rides it out alone.

A private PostgreSQL (tests/private_postgres.py) under one server, workers running and runs
(fork, join, WAIT, task) being started. Once the workers have been handed 100 tasks,
PostgreSQL is stopped with an immediate shutdown (every session cut, as a crash or failover
does) and started again 5 s later. The server is never restarted: it must answer 503 while the
database is gone, be healthy again within 30 s of its return, and finish every run with
nothing lost or done twice (workload.py's checks).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from tests.chaos import workload
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import Ledger
from tests.private_postgres import PrivatePostgres
from workers import ConductorClient

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

RUNS = 150
STOP_AT_DELIVERIES = 100
DOWN_S = 5.0
NAME, PREFIX = "chaos_database_restart", "chaos_dr"
READY_BOUND_S = 30
RECOVERY_BOUND_S = 90


async def _health(url: str) -> int:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(f"{url}/health") as resp,
        ):
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def test_an_immediate_postgres_restart_under_load_loses_nothing(tmp_path: Path) -> None:
    database = PrivatePostgres(tmp_path / "pg")
    servers = Servers(database.url, tmp_path)
    try:
        [server] = servers.start(1)
        ledger = Ledger()
        async with ConductorClient(server.api) as admin:
            await workload.register(admin, NAME, PREFIX)
        async with workload.workers([server.api], PREFIX, ledger, per_server=2):
            starting = asyncio.create_task(
                workload.start_runs(server.api, NAME, RUNS, parallel=8, timeout=90)
            )

            async def delivered() -> bool:
                return len(ledger) >= STOP_AT_DELIVERIES

            await wait_until(delivered, timeout=60)
            await asyncio.to_thread(database.stop)
            stopped_at = time.monotonic()
            assert await _health(server.url) == 503
            await asyncio.sleep(DOWN_S)  # the outage itself, not a wait for a condition
            await asyncio.to_thread(database.start)
            back_at = time.monotonic()

            async def healthy() -> bool:
                return await _health(server.url) == 200

            await wait_until(healthy, timeout=READY_BOUND_S, interval=0.1)
            ready_s = time.monotonic() - back_at
            workflow_ids = await starting
            await workload.wait_all_completed(server.api, workflow_ids, RECOVERY_BOUND_S)
            completed_s = time.monotonic() - back_at
        verdict = await workload.verdict(server.api, workflow_ids, ledger)
        assert server.alive, "the server died with its database"
        log = server.log_path.read_text()
    finally:
        problems = servers.close()
        database.close()
    record(
        "R2 PostgreSQL immediate restart",
        {
            "database down s": round(back_at - stopped_at, 1),
            **verdict.figures(),
            "healthy s after it returned": round(ready_s, 1),
            "all COMPLETED s after it returned": round(completed_s, 1),
            "server restarts": 0,
        },
    )
    assert not verdict.problems, "\n".join(verdict.problems[:30])
    assert log.count("the database is unavailable") >= 1
    assert "unhandled error" not in log
    assert problems == []
