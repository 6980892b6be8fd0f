"""The throughput bench's workload: three SIMPLE steps in sequence, run by the `workers` library.

`definitions()` are the task and workflow definitions; `run_workers` runs one worker per task
type in this process until every workflow's last step has been accepted, and times that from
the first poll; `statuses` asks the API how the workflows ended.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp

from bench.cpu import CpuMeter
from workers import ConductorClient, Outcome, Task, TaskResult, TaskRunner, Worker

WORKFLOW_NAME = "bench_three_steps"
TASK_TYPES = ("bench_step_1", "bench_step_2", "bench_step_3")


def definitions() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    task_defs = [
        {
            "name": name,
            "retryCount": 0,
            "responseTimeoutSeconds": 60,
            "timeoutSeconds": 0,
            "ownerEmail": "bench@example.com",
        }
        for name in TASK_TYPES
    ]
    steps = []
    previous = "${workflow.input.value}"
    for index, name in enumerate(TASK_TYPES, start=1):
        ref = f"step_{index}"
        steps.append(
            {
                "name": name,
                "taskReferenceName": ref,
                "type": "SIMPLE",
                "inputParameters": {"value": previous},
            }
        )
        previous = f"${{{ref}.output.value}}"
    workflow = {
        "name": WORKFLOW_NAME,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "bench@example.com",
        "timeoutSeconds": 0,
        "tasks": steps,
        "outputParameters": {"value": previous},
    }
    return task_defs, workflow


class CountingClient(ConductorClient):
    """Notes the first poll and each accepted result of the last step."""

    def __init__(self, base_url: str, expected: int) -> None:
        super().__init__(base_url)
        self.first_poll: float | None = None
        self.finished_at: float | None = None
        self.done = asyncio.Event()
        self._expected = expected
        self._finished: set[str] = set()
        self.last_step_tasks: set[str] = set()

    async def batch_poll(self, *args: Any, **kwargs: Any) -> list[Task]:
        if self.first_poll is None:
            self.first_poll = time.perf_counter()
        return await super().batch_poll(*args, **kwargs)

    async def update(self, result: TaskResult) -> None:
        await super().update(result)
        self._accepted(result)

    async def update_v2(self, result: TaskResult) -> Task | None:
        following = await super().update_v2(result)
        self._accepted(result)
        return following

    def _accepted(self, result: TaskResult) -> None:
        # An accepted COMPLETED result of the last step finishes its workflow.
        if result.task_id not in self.last_step_tasks or result.status != "COMPLETED":
            return
        self._finished.add(result.workflow_instance_id)
        if len(self._finished) >= self._expected and self.finished_at is None:
            self.finished_at = time.perf_counter()
            self.done.set()


class Step(Worker):
    """Echoes its input; the last step remembers its task ids for the client's count."""

    def __init__(
        self, task_type: str, concurrency: int, poll_timeout_ms: int, seen: set[str] | None
    ) -> None:
        self.task_type = task_type
        self.concurrency = concurrency
        self.poll_timeout_ms = poll_timeout_ms
        self._seen = seen

    async def execute(self, task: Task) -> Outcome:
        if self._seen is not None:
            self._seen.add(task.task_id)
        return {"value": task.input_data.get("value")}


def make_workers(client: CountingClient, concurrency: int, poll_timeout_ms: int) -> list[Step]:
    share, extra = divmod(concurrency, len(TASK_TYPES))
    last = len(TASK_TYPES) - 1
    return [
        Step(
            task_type,
            max(1, share + (1 if index < extra else 0)),
            poll_timeout_ms,
            client.last_step_tasks if index == last else None,
        )
        for index, task_type in enumerate(TASK_TYPES)
    ]


async def run_workers(
    api: str, count: int, concurrency: int, poll_timeout_ms: int, timeout: float, meter: CpuMeter
) -> tuple[float, float, dict[str, float]]:
    """Run the workers until all `count` workflows finished; (first poll, finish, CPU use)."""
    client = CountingClient(api, count)
    runner = TaskRunner(
        client,
        make_workers(client, concurrency, poll_timeout_ms),
        worker_id=f"bench-{os.getpid()}",
        use_update_v2=True,
    )
    meter.start()
    running = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(timeout):
            await client.done.wait()
        cpu = meter.stop()
    finally:
        await runner.stop(5.0)
        await running
        await client.close()
    assert client.first_poll is not None
    assert client.finished_at is not None
    return client.first_poll, client.finished_at, cpu


async def statuses(
    session: aiohttp.ClientSession, api: str, ids: list[str], concurrency: int
) -> dict[str, int]:
    """Count workflow statuses as the API reports them."""
    found: dict[str, int] = {}
    queue = list(ids)

    async def checker() -> None:
        while queue:
            workflow_id = queue.pop()
            async with session.get(f"{api}/workflow/{workflow_id}/status") as resp:
                payload = await resp.json() if resp.status == 200 else {}
            status = str(payload.get("status", f"HTTP {resp.status}"))
            found[status] = found.get(status, 0) + 1

    await asyncio.gather(*(checker() for _ in range(concurrency)))
    return found
