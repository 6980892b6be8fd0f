"""R4: three servers on one database, one SIGKILLed under load and never brought back.

Workers poll all three; runs (fork, join, WAIT, task) are started round the three while the
workers run, retrying on the next server when one does not answer. Once the workers have been
handed 150 tasks, one server is killed: what it had claimed, decided or scheduled is in the
database, so the other two finish every run. Checked against the ledger (workload.py).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.chaos import workload
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import Ledger
from workers import ConductorClient

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

RUNS = 200
KILL_AT_DELIVERIES = 150
NAME, PREFIX = "chaos_servers_lost", "chaos_sl"
RECOVERY_BOUND_S = 60


async def test_one_of_three_servers_killed_loses_nothing(servers: Servers) -> None:
    trio = servers.start(3)
    urls = [server.api for server in trio]
    ledger = Ledger()
    async with ConductorClient(urls[0]) as admin:
        await workload.register(admin, NAME, PREFIX)
    async with workload.workers(urls, PREFIX, ledger):
        starting = asyncio.create_task(workload.start_runs(urls, NAME, RUNS, parallel=8))

        async def delivered() -> bool:
            return len(ledger) >= KILL_AT_DELIVERIES

        await wait_until(delivered, timeout=60)
        victim = trio[1]
        victim.kill()
        killed_at, at_kill = time.monotonic(), len(ledger)
        workflow_ids = await starting
        survivor = trio[0].api
        await workload.wait_all_completed(survivor, workflow_ids, RECOVERY_BOUND_S)
        recovery_s = time.monotonic() - killed_at
    verdict = await workload.verdict(survivor, workflow_ids, ledger)
    record(
        "R4 three servers, one killed",
        {
            "kills": 1,
            "killed after deliveries": at_kill,
            **verdict.figures(),
            "all COMPLETED s after the kill": round(recovery_s, 1),
        },
    )
    assert not verdict.problems, "\n".join(verdict.problems[:30])
