"""Shared pieces of the multi-workflow e2e tests: a ledger of deliveries, the workers that fill
it, a three-task workflow, and the checks run on every workflow at the end (RELIABILITY §4).

Every task a worker executes is recorded as a `Delivery` before it runs, so a task handed out
twice shows up as two entries with one taskId, whatever happened to its result afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.conftest import wait_until
from workers import ConductorClient, Task, Worker

REFS = ("a_ref", "b_ref", "c_ref")


@dataclass(frozen=True)
class Delivery:
    task_id: str
    workflow_id: str
    ref: str
    retry_count: int
    worker_id: str
    at: float


@dataclass
class Ledger:
    deliveries: list[Delivery] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.deliveries)

    def record(self, task: Task, worker_id: str) -> None:
        self.deliveries.append(
            Delivery(
                task.task_id,
                task.workflow_instance_id,
                task.reference_task_name,
                task.retry_count,
                worker_id,
                time.monotonic(),
            )
        )

    def duplicate_task_ids(self) -> dict[str, int]:
        counts = Counter(d.task_id for d in self.deliveries)
        return {task_id: n for task_id, n in counts.items() if n > 1}

    def task_ids(self) -> set[str]:
        return {d.task_id for d in self.deliveries}


class LedgerWorker(Worker):
    """Records each task in the ledger, then completes it with a small, checkable output."""

    def __init__(
        self, task_type: str, ledger: Ledger, worker_id: str, concurrency: int = 5
    ) -> None:
        self.task_type = task_type
        self.concurrency = concurrency
        self.poll_timeout_ms = 1000
        self._ledger = ledger
        self._worker_id = worker_id

    async def execute(self, task: Task) -> dict[str, Any]:
        self._ledger.record(task, self._worker_id)
        return {"ref": task.reference_task_name, "n": task.input_data.get("n")}


def task_defs(prefix: str, **settings: Any) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}_{ref[0]}", **settings} for ref in REFS]


def three_task_workflow(name: str, prefix: str) -> dict[str, Any]:
    """a -> b -> c, each a SIMPLE task of type `<prefix>_a` ... passing `n` along."""
    tasks = []
    previous = "${workflow.input.n}"
    for ref in REFS:
        tasks.append(
            {
                "name": f"{prefix}_{ref[0]}",
                "taskReferenceName": ref,
                "type": "SIMPLE",
                "inputParameters": {"n": previous},
            }
        )
        previous = f"${{{ref}.output.n}}"
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": tasks,
        "outputParameters": {"n": previous},
        "timeoutSeconds": 0,
    }


def one_task_workflow(name: str, task_type: str, ref: str = "only") -> dict[str, Any]:
    """A workflow of one SIMPLE task of `task_type`."""
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [{"name": task_type, "taskReferenceName": ref, "type": "SIMPLE"}],
    }


async def start_workflows(
    clients: list[ConductorClient], name: str, count: int, parallel: int = 16
) -> list[str]:
    """Start `count` workflows with input n=i, alternating between the given clients."""
    gate = asyncio.Semaphore(parallel)

    async def start(i: int) -> str:
        async with gate:
            return await clients[i % len(clients)].start_workflow(name, {"n": i}, version=1)

    return list(await asyncio.gather(*(start(i) for i in range(count))))


class StatusWatcher:
    """Tracks which workflows are not COMPLETED yet, re-reading only those."""

    def __init__(self, client: ConductorClient, workflow_ids: list[str]) -> None:
        self._client = client
        self.pending = set(workflow_ids)
        self.last_status: dict[str, str] = {}
        self.ended_badly: dict[str, str] = {}

    async def settled(self) -> bool:
        """True once every workflow is COMPLETED or one of them ended otherwise."""
        try:
            for workflow_id in sorted(self.pending):
                workflow = await self._client.get_workflow(workflow_id, include_tasks=False)
                status = workflow["status"]
                self.last_status[workflow_id] = status
                if status == "COMPLETED":
                    self.pending.discard(workflow_id)
                elif status != "RUNNING":
                    self.ended_badly[workflow_id] = status
        except (aiohttp.ClientError, TimeoutError):
            return False  # the server is restarting: ask again on the next round
        return not self.pending or bool(self.ended_badly)


async def wait_all_completed(
    client: ConductorClient, workflow_ids: list[str], timeout: float
) -> None:
    """Wait until every workflow is COMPLETED; fail at once if one ends any other way."""
    watcher = StatusWatcher(client, workflow_ids)
    try:
        await wait_until(watcher.settled, timeout=timeout, interval=0.25)
    except AssertionError:
        stuck = {w: watcher.last_status.get(w) for w in sorted(watcher.pending)[:20]}
        raise AssertionError(
            f"{len(watcher.pending)} workflows not COMPLETED within {timeout} s; e.g. {stuck}"
        ) from None
    assert not watcher.ended_badly, f"workflows ended otherwise: {watcher.ended_badly}"


def completion_problems(workflow: dict[str, Any], ledger_task_ids: set[str]) -> list[str]:
    """Invariant I2 on one finished workflow; an empty list means it holds.

    - exactly one COMPLETED task per reference name;
    - at most one task per (reference name, retryCount): no attempt was scheduled twice;
    - every COMPLETED task was executed by one of our workers;
    - the output is the input passed through all three tasks.
    """
    workflow_id = workflow["workflowId"]
    tasks = workflow.get("tasks") or []
    problems = []
    if workflow.get("status") != "COMPLETED":
        problems.append(f"{workflow_id}: status {workflow.get('status')}")
    for ref in REFS:
        completed = [
            t for t in tasks if t["referenceTaskName"] == ref and t["status"] == "COMPLETED"
        ]
        if len(completed) != 1:
            problems.append(f"{workflow_id}: {len(completed)} COMPLETED tasks for {ref}")
        problems.extend(
            f"{workflow_id}: COMPLETED task {t['taskId']} ({ref}) was never delivered to a worker"
            for t in completed
            if t["taskId"] not in ledger_task_ids
        )
    attempts = Counter((t["referenceTaskName"], t.get("retryCount", 0)) for t in tasks)
    problems.extend(
        f"{workflow_id}: {n} tasks for {ref} attempt {retry}"
        for (ref, retry), n in attempts.items()
        if n > 1
    )
    if workflow.get("output") != {"n": workflow.get("input", {}).get("n")}:
        problems.append(
            f"{workflow_id}: output {workflow.get('output')} for {workflow.get('input')}"
        )
    return problems


async def check_all(
    client: ConductorClient, workflow_ids: list[str], ledger: Ledger
) -> list[dict[str, Any]]:
    """Assert I2 for every workflow and that no taskId was executed twice; return workflows."""
    delivered = ledger.task_ids()
    workflows = [await client.get_workflow(w, include_tasks=True) for w in workflow_ids]
    problems = [p for w in workflows for p in completion_problems(w, delivered)]
    assert not problems, "\n".join(problems[:50])
    assert not ledger.duplicate_task_ids(), ledger.duplicate_task_ids()
    return workflows


async def grouped_results(url: str) -> tuple[float, float]:
    """(task results applied through group commit, group transactions) from a server's
    /metrics; more results than transactions means results shared commits."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("conductor_group_commit_size_sum", "conductor_group_commit_size_count"):
            values[name] = float(value)
    return (
        values.get("conductor_group_commit_size_sum", 0.0),
        values.get("conductor_group_commit_size_count", 0.0),
    )
