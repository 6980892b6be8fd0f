"""R1: the server is SIGKILLed mid-run and restarted; no workflow is lost, no task runs twice.

200 three-task workflows run on our `workers` library (two runners, batch polls, several tasks
at once). Once 150 tasks have been executed the server is killed with SIGKILL, wherever it is:
inside a claim, a transition, or between commit and response. It is restarted on the same port
and database while the workers keep going, retrying through the outage; at 400 tasks it is
killed and restarted once more. Tasks whose poll answer or result was lost come back after
responseTimeoutSeconds (3 s) as a new attempt.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from conductor.testing.server_process import ServerProcess
from tests.conftest import wait_until
from tests.e2e.ledger import (
    REFS,
    Ledger,
    LedgerWorker,
    check_all,
    grouped_results,
    start_workflows,
    task_defs,
    three_task_workflow,
    wait_all_completed,
)
from workers import Backoff, ConductorClient, TaskRunner

pytestmark = pytest.mark.e2e

WORKFLOWS = 200
# Kill (and restart) the server once the workers have executed this many tasks: early in the
# run, then again while the first recovery's retries are still in the queues.
KILL_AT_DELIVERIES = (150, 400)
PREFIX = "e2e_crash"
NAME = "e2e_crash_flow"


def _runner(client: ConductorClient, ledger: Ledger, worker_id: str) -> TaskRunner:
    workers = [LedgerWorker(f"{PREFIX}_{ref[0]}", ledger, worker_id) for ref in REFS]
    # A quick poll backoff keeps the outage short for the workers; results are retried for a
    # few seconds and then dropped, which the server's response timeout covers.
    return TaskRunner(client, workers, worker_id, poll_backoff=Backoff(base=0.1, cap=1.0))


async def test_workflows_survive_a_server_sigkill(server: ServerProcess) -> None:
    ledger = Ledger()
    async with ConductorClient(server.api) as admin:
        await admin.register_task_defs(
            task_defs(PREFIX, retryCount=3, retryDelaySeconds=0, responseTimeoutSeconds=3)
        )
        await admin.register_workflow_def(three_task_workflow(NAME, PREFIX))
        workflow_ids = await start_workflows([admin], NAME, WORKFLOWS)

    clients = [ConductorClient(server.api) for _ in range(2)]
    runners = [_runner(c, ledger, f"crash-worker-{i}") for i, c in enumerate(clients)]
    running = [asyncio.create_task(r.run()) for r in runners]
    try:
        kills = []
        for threshold in KILL_AT_DELIVERIES:

            async def delivered(threshold: int = threshold) -> bool:
                return len(ledger) >= threshold

            await wait_until(delivered, timeout=60)
            server.kill()
            kills.append(len(ledger))
            await server.start_async()
        restarted_at = time.monotonic()

        async with ConductorClient(server.api) as admin:
            await wait_all_completed(admin, workflow_ids, timeout=90)
            recovery_s = time.monotonic() - restarted_at
            workflows = await check_all(admin, workflow_ids, ledger)
        results, transactions = await grouped_results(server.url)
    finally:
        for runner in runners:
            await runner.stop(grace_seconds=5)
        await asyncio.gather(*running)
        for client in clients:
            await client.close()

    # Checked again once the workers stopped: nothing was handed out twice after the end either.
    assert not ledger.duplicate_task_ids(), ledger.duplicate_task_ids()

    all_task_ids = {t["taskId"] for w in workflows for t in w["tasks"]}
    lost = len(all_task_ids) - WORKFLOWS * len(REFS)
    print(
        f"killed after {kills} deliveries; all {WORKFLOWS} workflows COMPLETED "
        f"{recovery_s:.1f} s after the last restart; {len(ledger)} deliveries, {lost} lost "
        f"attempts; after it, {results:.0f} results in {transactions:.0f} group commits"
    )
    # The restarted server applied results through group commit, several per transaction.
    assert transactions < results
    # Every delivery was a task of these workflows, and each completed task was delivered.
    assert ledger.task_ids() <= all_task_ids
    assert WORKFLOWS * len(REFS) <= len(ledger) <= len(all_task_ids)
