"""R22: a transaction held open in the database while work churns through it.

A REPEATABLE READ transaction takes its snapshot and stays open (15 s here; CHAOS_LONG_TX_S
for the full half hour by hand) while runs of one SIMPLE task start at 50 a second and a
worker completes them. While it is open vacuum can remove none of the rows those runs finish
with, so claims must skip ever more dead ones. Checked: the server reports the open
transaction (`conductor_db_oldest_transaction_seconds`, behind the ConductorLongTransaction
alert), every run completes with each task handed out once, and the time from start to worker
stays within bound while the transaction is open; its p99 before, during and after is a figure.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import asyncpg
import pytest

from bench.report import percentile
from conductor.testing.server_process import ServerProcess
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import metric_value
from tests.e2e.ledger import Ledger, LedgerWorker, one_task_workflow
from workers import Backoff, ConductorClient, TaskRunner

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

HOLD_S = float(os.environ.get("CHAOS_LONG_TX_S", "15"))
BEFORE_S, AFTER_S = 5.0, 3.0
STARTS_PER_S = 50
TASK_TYPE, NAME = "chaos_churn", "chaos_long_transaction"
P99_BOUND_S = 2.0


async def _count(api: str, status: str) -> int:
    """How many runs of NAME have `status`, by the search API."""
    query = f"workflowType IN ({NAME}) AND status IN ({status})"
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api}/workflow/search", params={"query": query, "size": "1"}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return int((await resp.json())["totalHits"])


async def test_a_transaction_held_open_is_reported_and_work_flows(
    server: ServerProcess, db_dsn: str
) -> None:
    async with ConductorClient(server.api) as client:
        await client.register_task_defs([{"name": TASK_TYPE, "responseTimeoutSeconds": 30}])
        await client.register_workflow_def(one_task_workflow(NAME, TASK_TYPE))
        ledger = Ledger()
        started: dict[str, tuple[float, str]] = {}  # run -> (when, phase)
        phase = "before"

        async def churn(until: float) -> None:
            loop = asyncio.get_running_loop()
            due = loop.time()
            while due < until:
                await asyncio.sleep(max(0.0, due - loop.time()))  # paced arrivals
                sent, when = time.monotonic(), phase
                run_id = await client.start_workflow(NAME, {}, version=1)
                started[run_id] = (sent, when)
                due += 1 / STARTS_PER_S

        worker = LedgerWorker(TASK_TYPE, ledger, "churn")
        runner = TaskRunner(client, [worker], "churn", poll_backoff=Backoff(base=0.05, cap=0.2))
        running = asyncio.create_task(runner.run())
        holder = await asyncpg.connect(db_dsn)
        try:
            loop = asyncio.get_running_loop()
            total = BEFORE_S + HOLD_S + AFTER_S
            churning = asyncio.create_task(churn(loop.time() + total))
            await asyncio.sleep(BEFORE_S)  # the paced churn's first phase
            held = holder.transaction(isolation="repeatable_read")
            await held.start()
            await holder.fetchval("SELECT count(*) FROM workflow")  # takes the snapshot
            phase, opened = "during", time.monotonic()

            async def reported() -> bool:
                age = await metric_value(server.url, "conductor_db_oldest_transaction_seconds")
                return age >= min(HOLD_S / 2, 10)

            await wait_until(reported, timeout=HOLD_S, interval=0.5)
            reported_after_s = time.monotonic() - opened
            await asyncio.sleep(max(0.0, opened + HOLD_S - time.monotonic()))
            await held.rollback()
            phase = "after"
            await churning
            # Counted by search: reading each of the half hour's 90,000 runs would take longer
            # than the run itself.

            async def all_completed() -> bool:
                return await _count(server.api, "COMPLETED") == len(started)

            await wait_until(all_completed, timeout=60, interval=0.5)
        finally:
            await holder.close()
            await runner.stop(grace_seconds=5)
            await running
    latency: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    for delivery in ledger.deliveries:
        at, when = started[delivery.workflow_id]
        latency[when].append(delivery.at - at)
    figures = {f"p99 ms {k}": round(1000 * percentile(v, 0.99)) for k, v in latency.items()}
    record(
        f"R22 transaction open {HOLD_S:g} s",
        {
            "runs": len(started),
            "duplicate deliveries": sum(ledger.duplicate_task_ids().values()),
            "reported after s": round(reported_after_s, 1),
            **figures,
        },
    )
    assert not ledger.duplicate_task_ids()
    assert len(ledger) == len(started)
    assert percentile(latency["during"], 0.99) < P99_BOUND_S, figures
