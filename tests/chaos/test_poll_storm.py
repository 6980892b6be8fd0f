"""R9: a poll storm. 300 workers long-poll one task type with batches of 1 to 50 while 1,000
runs are started; every task reaches exactly one of them, once, and every run completes.

The pollers are plain HTTP clients (one connection each), each recording what it was handed
before completing it; the record is the ledger the checks read. The p50 and p99 of polls that
were handed tasks are figures, not goals.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import aiohttp
import pytest

from bench.report import percentile
from conductor.testing.server_process import ServerProcess
from tests.chaos import workload
from tests.chaos.figures import record
from tests.e2e.ledger import one_task_workflow, wait_all_completed
from workers import ConductorClient

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

POLLERS = 300
RUNS = 1000
TASK_TYPE, NAME = "chaos_storm", "chaos_poll_storm"
BOUND_S = 120


async def test_a_poll_storm_hands_each_task_to_one_worker_once(server: ServerProcess) -> None:
    async with ConductorClient(server.api) as admin:
        await admin.register_task_defs([{"name": TASK_TYPE, "responseTimeoutSeconds": 60}])
        await admin.register_workflow_def(one_task_workflow(NAME, TASK_TYPE))
    handed: list[str] = []
    latencies: list[float] = []
    stop = asyncio.Event()
    rng = random.Random(9)
    connector = aiohttp.TCPConnector(limit=POLLERS + 50)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def poller(index: int) -> None:
            count = rng.randint(1, 50)
            url = f"{server.api}/tasks/poll/batch/{TASK_TYPE}"
            params = {"count": str(count), "timeout": "1000", "workerid": f"storm-{index}"}
            while not stop.is_set():
                began = time.monotonic()
                async with session.get(url, params=params) as resp:
                    assert resp.status in (200, 204), await resp.text()
                    tasks = await resp.json() if resp.status == 200 else []
                if not tasks:
                    continue
                latencies.append(time.monotonic() - began)
                for task in tasks:
                    handed.append(task["taskId"])
                    result = {
                        "workflowInstanceId": task["workflowInstanceId"],
                        "taskId": task["taskId"],
                        "status": "COMPLETED",
                        "outputData": {"by": index},
                    }
                    async with session.post(f"{server.api}/tasks", json=result) as done:
                        assert done.status == 200, await done.text()

        polling = [asyncio.create_task(poller(i)) for i in range(POLLERS)]
        try:
            began = time.monotonic()
            run_ids = await workload.start_runs(server.api, NAME, RUNS, timeout=BOUND_S)
            async with ConductorClient(server.api, request_timeout=30) as client:
                await wait_all_completed(client, run_ids, timeout=BOUND_S)
            elapsed = time.monotonic() - began
        finally:
            stop.set()
            results = await asyncio.gather(*polling, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    async with ConductorClient(server.api, request_timeout=30) as client:
        runs = [await client.get_workflow(r, include_tasks=True) for r in run_ids]
    task_ids = {t["taskId"] for run in runs for t in run["tasks"]}
    twice = {t: n for t, n in Counter(handed).items() if n > 1}
    record(
        "R9 poll storm",
        {
            "pollers": POLLERS,
            "runs": RUNS,
            "tasks handed out": len(handed),
            "handed out twice": len(twice),
            "attempts beyond the first": len(task_ids) - RUNS,
            "polls answered with tasks": len(latencies),
            "their p50 / p99 ms": f"{1000 * percentile(latencies, 0.5):.0f} / "
            f"{1000 * percentile(latencies, 0.99):.0f}",
            "all COMPLETED s": round(elapsed, 1),
        },
    )
    assert not twice
    assert len(task_ids) == RUNS  # one attempt each: none lost, none redelivered
    assert set(handed) == task_ids
