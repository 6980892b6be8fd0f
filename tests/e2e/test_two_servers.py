"""R4: two server processes on one database share the work without handing a task out twice.

Each server has its own worker runner (our `workers` library) polling it only; workflows are
started on both in turn. Neither server knows about the other except through PostgreSQL: row
locks and SKIP LOCKED for claims, LISTEN/NOTIFY for waking long polls on the other process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from conductor.testing.server_process import ServerProcess
from tests.conftest import wait_until
from tests.e2e.harness import Servers, metric_value
from tests.e2e.ledger import (
    REFS,
    Ledger,
    LedgerWorker,
    check_all,
    grouped_results,
    one_task_workflow,
    start_workflows,
    task_defs,
    three_task_workflow,
    wait_all_completed,
)
from workers import ConductorClient, TaskRunner

pytestmark = pytest.mark.e2e

WORKFLOWS = 200
PREFIX = "e2e_pair"
NAME = "e2e_pair_flow"
WAKE_TASK = "e2e_pair_wake"
WAKE_FLOW = "e2e_pair_wake_flow"
LONG_POLL_MS = 5000
# A wake-up through LISTEN/NOTIFY takes milliseconds; without one the poll would return only at
# its 5 s deadline, when it claims once more.
WAKE_BOUND_S = 2.5


async def test_two_servers_complete_every_workflow_once(servers: Servers) -> None:
    first, second = servers.start(2)
    ledger = Ledger()
    # retryCount 0 and a long response timeout: nothing in this run may fail or time out, so
    # each task has exactly one attempt and one delivery.
    async with ConductorClient(first.api) as admin:
        await admin.register_task_defs(
            task_defs(PREFIX, retryCount=0, responseTimeoutSeconds=60, timeoutSeconds=120)
        )
        await admin.register_workflow_def(three_task_workflow(NAME, PREFIX))

    clients = [ConductorClient(s.api) for s in (first, second)]
    runners = [
        TaskRunner(
            client,
            [LedgerWorker(f"{PREFIX}_{ref[0]}", ledger, f"pair-worker-{i}") for ref in REFS],
            f"pair-worker-{i}",
        )
        for i, client in enumerate(clients)
    ]
    running = [asyncio.create_task(r.run()) for r in runners]
    try:
        workflow_ids = await start_workflows(clients, NAME, WORKFLOWS)
        await wait_all_completed(clients[1], workflow_ids, timeout=90)
        await check_all(clients[0], workflow_ids, ledger)
    finally:
        for runner in runners:
            await runner.stop(grace_seconds=5)
        await asyncio.gather(*running)
        for client in clients:
            await client.close()

    # Checked again once the workers stopped: nothing was handed out twice after the end either.
    assert not ledger.duplicate_task_ids(), ledger.duplicate_task_ids()

    assert len(ledger) == WORKFLOWS * len(REFS)
    assert all(d.retry_count == 0 for d in ledger.deliveries)
    per_worker = Counter(d.worker_id for d in ledger.deliveries)
    print(f"deliveries per worker (each polling one server): {dict(per_worker)}")
    assert set(per_worker) == {"pair-worker-0", "pair-worker-1"}, per_worker
    # The results went through group commit: some transactions carried several.
    grouped = [await grouped_results(s.url) for s in (first, second)]
    results, transactions = (sum(g[i] for g in grouped) for i in (0, 1))
    print(f"{results:.0f} results in {transactions:.0f} group-commit transactions")
    assert results == len(ledger) and transactions < results


async def test_long_poll_is_woken_by_a_task_scheduled_on_the_other_server(
    servers: Servers,
) -> None:
    first, second = servers.start(2)
    async with ConductorClient(first.api) as admin:
        await admin.register_task_defs([{"name": WAKE_TASK, "responseTimeoutSeconds": 30}])
        await admin.register_workflow_def(one_task_workflow(WAKE_FLOW, WAKE_TASK, "wake_ref"))

    for starter, poller in ((first, second), (second, first)):
        async with ConductorClient(starter.api) as start, ConductorClient(poller.api) as poll:
            polling = asyncio.create_task(poll.batch_poll(WAKE_TASK, "e2e-waker", 1, LONG_POLL_MS))

            async def poll_is_waiting(poller: ServerProcess = poller) -> bool:
                return await metric_value(poller.url, "conductor_long_polls_waiting") >= 1

            await wait_until(poll_is_waiting, timeout=4)
            workflow_id = await start.start_workflow(WAKE_FLOW, {}, version=1)
            scheduled = time.monotonic()
            tasks = await polling
            woken_after = time.monotonic() - scheduled

        assert [t.workflow_instance_id for t in tasks] == [workflow_id], (
            f"long poll on {poller.name} got {tasks} for a task scheduled on {starter.name}"
        )
        print(f"{poller.name} woken {woken_after:.3f} s after {starter.name} scheduled")
        assert woken_after < WAKE_BOUND_S, (
            f"long poll on {poller.name} returned {woken_after:.2f} s after {starter.name} "
            f"scheduled the task"
        )
