"""The chaos suite's workload and its independent checks (RELIABILITY §4: I1, I2, I3).

Each run is a fork of two SIMPLE tasks, a JOIN, a one-second WAIT and a last SIMPLE task, so a
fault can land with forks, joins and timers in flight. Workers (our `workers` library, batch
polls and update-v2) record every task they are handed in a `Ledger` before they run it; the
checks compare that ledger with what the server says at the end:

- every run COMPLETED (I1) with the output its input implies;
- per reference name exactly one COMPLETED task, and never two tasks for one attempt (I2);
- every COMPLETED worker task was handed to a worker, and no task id was handed out twice;
- the WAIT fired once and not early: one WAIT task, COMPLETED no sooner than its duration.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.e2e.ledger import Ledger, LedgerWorker
from tests.e2e.ledger import wait_all_completed as ledger_wait
from workers import Backoff, ConductorClient, TaskRunner

WAIT_S = 1
WORKER_REFS = ("left", "right", "last")
RESPONSE_TIMEOUT_S = 3


def task_defs(prefix: str) -> list[dict[str, Any]]:
    """Quick redelivery: a task whose worker never heard of it is retried after 3 s."""
    return [
        {
            "name": f"{prefix}_{ref}",
            "retryCount": 10,
            "retryLogic": "FIXED",
            "retryDelaySeconds": 0,
            "responseTimeoutSeconds": RESPONSE_TIMEOUT_S,
            "timeoutSeconds": 0,
        }
        for ref in WORKER_REFS
    ]


def _simple(prefix: str, ref: str, n: str) -> dict[str, Any]:
    return {
        "name": f"{prefix}_{ref}",
        "taskReferenceName": ref,
        "type": "SIMPLE",
        "inputParameters": {"n": n},
    }


def workflow_def(name: str, prefix: str) -> dict[str, Any]:
    """fork(left, right) -> join -> WAIT 1 s -> last; the output is the input's n."""
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "timeoutSeconds": 0,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [_simple(prefix, "left", "${workflow.input.n}")],
                    [_simple(prefix, "right", "${workflow.input.n}")],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["left", "right"],
            },
            {
                "name": "pause",
                "taskReferenceName": "pause",
                "type": "WAIT",
                "inputParameters": {"duration": f"{WAIT_S} seconds"},
            },
            _simple(prefix, "last", "${left.output.n}"),
        ],
        "outputParameters": {"n": "${last.output.n}"},
    }


def wait_workflow(name: str, duration: str, *then: dict[str, Any]) -> dict[str, Any]:
    """A WAIT of `duration` (ref `pause`), then the tasks `then`, if any."""
    pause = {
        "name": "pause",
        "taskReferenceName": "pause",
        "type": "WAIT",
        "inputParameters": {"duration": duration},
    }
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": [pause, *then]}


async def register(client: ConductorClient, name: str, prefix: str) -> None:
    await client.register_task_defs(task_defs(prefix))
    await client.register_workflow_def(workflow_def(name, prefix))


async def start_runs(
    urls: str | Sequence[str],
    name: str,
    count: int,
    first: int = 0,
    parallel: int = 16,
    timeout: float = 60,
) -> list[str]:
    """Start runs n = first .. first+count-1, each with an idempotency key, retrying through
    outages: a start whose answer was lost is sent again and returns the run it made. Given
    several servers' URLs, starts go round them, and a retry goes to the next one."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    gate = asyncio.Semaphore(parallel)
    deadline = time.monotonic() + timeout

    async def start(session: aiohttp.ClientSession, i: int) -> str:
        body = {
            "name": name,
            "version": 1,
            "input": {"n": i},
            "idempotencyKey": f"{name}-{i}",
            "idempotencyStrategy": "RETURN_EXISTING",
        }
        async with gate:
            for attempt in itertools.count(i):
                url = urls[attempt % len(urls)]
                try:
                    async with session.post(f"{url}/workflow", json=body) as resp:
                        text = await resp.text()
                        if resp.status == 200:
                            return text.strip()
                        if resp.status < 500:
                            raise AssertionError(f"start {i}: {resp.status} {text}")
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"start {i} not accepted within {timeout} s")
                await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    timeouts = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeouts) as session:
        return list(await asyncio.gather(*(start(session, i) for i in range(first, first + count))))


@asynccontextmanager
async def workers(
    urls: Sequence[str], prefix: str, ledger: Ledger, per_server: int = 1
) -> AsyncIterator[None]:
    """Task runners on every server's API (`per_server` each), filling `ledger` meanwhile."""
    clients = [ConductorClient(url, request_timeout=5) for url in urls for _ in range(per_server)]
    runners = [
        TaskRunner(
            client,
            [LedgerWorker(f"{prefix}_{ref}", ledger, f"chaos-{i}") for ref in WORKER_REFS],
            f"chaos-{i}",
            poll_backoff=Backoff(base=0.1, cap=0.5),
        )
        for i, client in enumerate(clients)
    ]
    running = [asyncio.create_task(runner.run()) for runner in runners]
    try:
        yield
    finally:
        for runner in runners:
            await runner.stop(grace_seconds=5)
        await asyncio.gather(*running, return_exceptions=True)
        for client in clients:
            await client.close()


async def wait_all_completed(url: str, workflow_ids: list[str], timeout: float) -> float:
    """Wait until every run is COMPLETED; the seconds it took. Fails at the deadline, or at
    once when a run ends any other way."""
    began = time.monotonic()
    async with ConductorClient(url, request_timeout=5) as client:
        await ledger_wait(client, workflow_ids, timeout)
    return time.monotonic() - began


@dataclass
class Verdict:
    runs: int
    deliveries: int
    lost_runs: int
    double_completions: int
    duplicate_deliveries: int
    early_or_repeated_waits: int
    problems: list[str]

    def figures(self) -> dict[str, int]:
        return {
            "runs": self.runs,
            "deliveries": self.deliveries,
            "lost runs": self.lost_runs,
            "double completions": self.double_completions,
            "duplicate deliveries": self.duplicate_deliveries,
            "early or repeated WAITs": self.early_or_repeated_waits,
        }


def _run_problems(run: dict[str, Any], delivered: set[str]) -> tuple[list[str], int, int]:
    """(problems, extra COMPLETED tasks, WAIT faults) for one run."""
    run_id, tasks = run["workflowId"], run.get("tasks") or []
    problems: list[str] = []
    if run.get("status") != "COMPLETED":
        problems.append(f"{run_id}: status {run.get('status')}")
    doubles = 0
    for ref in (*WORKER_REFS, "join"):
        done = [t for t in tasks if t["referenceTaskName"] == ref and t["status"] == "COMPLETED"]
        if len(done) != 1:
            problems.append(f"{run_id}: {len(done)} COMPLETED tasks for {ref}")
            doubles += max(0, len(done) - 1)
        problems.extend(
            f"{run_id}: COMPLETED {ref} task {t['taskId']} was never handed to a worker"
            for t in done
            if ref in WORKER_REFS and t["taskId"] not in delivered
        )
    attempts = Counter((t["referenceTaskName"], t.get("retryCount", 0)) for t in tasks)
    problems.extend(
        f"{run_id}: {n} tasks for {ref} attempt {retry}"
        for (ref, retry), n in attempts.items()
        if n > 1
    )
    waits = [t for t in tasks if t["referenceTaskName"] == "pause"]
    wait_faults = 0
    if len(waits) != 1 or waits[0]["status"] != "COMPLETED":
        wait_faults = 1
        problems.append(f"{run_id}: WAIT tasks {[(t['taskId'], t['status']) for t in waits]}")
    elif waits[0]["endTime"] - waits[0]["scheduledTime"] < WAIT_S * 1000:
        wait_faults = 1
        problems.append(f"{run_id}: WAIT fired early: {waits[0]}")
    if run.get("output") != {"n": run.get("input", {}).get("n")}:
        problems.append(f"{run_id}: output {run.get('output')} for {run.get('input')}")
    return problems, doubles, wait_faults


async def verdict(url: str, workflow_ids: list[str], ledger: Ledger) -> Verdict:
    """Read every run with its tasks and check it against the ledger."""
    delivered = ledger.task_ids()
    async with ConductorClient(url, request_timeout=30) as client:
        runs = [await client.get_workflow(w, include_tasks=True) for w in workflow_ids]
    problems: list[str] = []
    doubles = waits = lost = 0
    for run in runs:
        found, extra, wait_faults = _run_problems(run, delivered)
        problems += found
        doubles, waits = doubles + extra, waits + wait_faults
        lost += run.get("status") != "COMPLETED"
    duplicates = ledger.duplicate_task_ids()
    problems += [f"task {t} handed out {n} times" for t, n in duplicates.items()]
    known = {t["taskId"] for run in runs for t in run.get("tasks") or []}
    problems += [f"task {t} handed out but not in any run" for t in ledger.task_ids() - known]
    return Verdict(len(runs), len(ledger), lost, doubles, sum(duplicates.values()), waits, problems)
