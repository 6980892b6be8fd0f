"""R10: clients hang up while their long polls wait; no task is claimed for them.

Twenty long polls (five tasks each, 5 s) wait on an empty queue, and their clients hang up.
Then twenty runs of one SIMPLE task are started and a worker polls as usual. Tasks claimed for
a closed connection would reach nobody until their response timeout (3 s here) made a new
attempt; the server notices the closed connections instead, so each task reaches the worker
on its first attempt, and all runs complete well within the bound of RELIABILITY's I3.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest

from conductor.testing.server_process import ServerProcess
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import metric_value
from tests.e2e.ledger import Ledger, LedgerWorker, one_task_workflow, wait_all_completed
from workers import Backoff, ConductorClient, TaskRunner

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

POLLS = 20
RUNS = 20
TASK_TYPE, NAME = "chaos_abandoned", "chaos_abandoned_polls"
RESPONSE_TIMEOUT_S = 3
BOUND_S = RESPONSE_TIMEOUT_S + 10


async def test_polls_whose_clients_hung_up_take_no_tasks(server: ServerProcess) -> None:
    async with ConductorClient(server.api) as admin:
        await admin.register_task_defs(
            [{"name": TASK_TYPE, "responseTimeoutSeconds": RESPONSE_TIMEOUT_S, "retryCount": 5}]
        )
        await admin.register_workflow_def(one_task_workflow(NAME, TASK_TYPE))
    sessions = [aiohttp.ClientSession() for _ in range(POLLS)]
    url = f"{server.api}/tasks/poll/batch/{TASK_TYPE}?count=5&timeout=5000&workerid=gone"
    polls = [asyncio.create_task(s.get(url)) for s in sessions]

    async def all_waiting() -> bool:
        return await metric_value(server.url, "conductor_long_polls_waiting") >= POLLS

    await wait_until(all_waiting, timeout=10)
    for poll in polls:  # the clients hang up: their connections close mid-request
        poll.cancel()
    for poll in polls:
        with contextlib.suppress(asyncio.CancelledError):
            await poll
    for session in sessions:
        await session.close()

    ledger = Ledger()
    began = time.monotonic()
    async with ConductorClient(server.api) as client:
        run_ids = [await client.start_workflow(NAME, {"n": i}, version=1) for i in range(RUNS)]
        worker = LedgerWorker(TASK_TYPE, ledger, "present")
        runner = TaskRunner(client, [worker], "present", poll_backoff=Backoff(base=0.1, cap=0.5))
        running = asyncio.create_task(runner.run())
        try:
            await wait_all_completed(client, run_ids, timeout=BOUND_S)
            completed_s = time.monotonic() - began
        finally:
            await runner.stop(grace_seconds=5)
            await running
        runs = [await client.get_workflow(r, include_tasks=True) for r in run_ids]
    attempts = [len(run["tasks"]) for run in runs]
    lost = sum(n - 1 for n in attempts)
    record(
        "R10 clients hung up mid-poll",
        {
            "abandoned polls": POLLS,
            "runs": RUNS,
            "attempts lost to closed connections": lost,
            "all COMPLETED s": round(completed_s, 1),
            "duplicate deliveries": sum(ledger.duplicate_task_ids().values()),
        },
    )
    assert lost == 0, attempts
    assert not ledger.duplicate_task_ids()
