"""The mixed-load bench's workflows and its recording worker.

Workflows: three SIMPLE steps (the throughput bench's), a WAIT followed by one SIMPLE step (the
step's input carries the WAIT's start and end times, so its lateness can be computed on the
worker's side), and a single SIMPLE step. `Recorder` is a `workers` Worker that notes, per task,
when it reached the worker (epoch ms, the server's clock is this machine's) and what it carried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from workers import Outcome, Task, Worker

OWNER = "bench@example.com"


def task_def(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "retryCount": 0,
        "responseTimeoutSeconds": 60,
        "timeoutSeconds": 0,
        "ownerEmail": OWNER,
    }


def workflow(name: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": OWNER,
        "timeoutSeconds": 0,
        "tasks": tasks,
    }


def simple(task_type: str, ref: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": task_type,
        "taskReferenceName": ref,
        "type": "SIMPLE",
        "inputParameters": inputs or {},
    }


def wait_then_step(name: str, task_type: str, wait_inputs: dict[str, Any]) -> dict[str, Any]:
    """A WAIT, then one SIMPLE step told when the WAIT started and ended."""
    wait = {
        "name": "wait",
        "taskReferenceName": "wait",
        "type": "WAIT",
        "inputParameters": wait_inputs,
    }
    step = simple(
        task_type, "after", {"waitStarted": "${wait.startTime}", "waitEnded": "${wait.endTime}"}
    )
    return workflow(name, [wait, step])


@dataclass(frozen=True)
class Received:
    """One task as it reached the worker."""

    at_ms: float  # epoch ms at the worker
    scheduled_ms: float  # the task's scheduledTime
    claimed_ms: float  # its startTime: when a poll claimed it on the server
    inputs: dict[str, Any]


class Recorder(Worker):
    """Answers at once (echoing `value`) and records every task it got."""

    def __init__(self, task_type: str, concurrency: int, poll_timeout_ms: int = 1000) -> None:
        self.task_type = task_type
        self.concurrency = concurrency
        self.poll_timeout_ms = poll_timeout_ms
        self.received: list[Received] = []
        self._changed = asyncio.Event()

    async def execute(self, task: Task) -> Outcome:
        self.received.append(
            Received(
                at_ms=time.time() * 1000,
                scheduled_ms=float(task.raw.get("scheduledTime") or 0),
                claimed_ms=float(task.raw.get("startTime") or 0),
                inputs=dict(task.input_data),
            )
        )
        self._changed.set()
        return {"value": task.input_data.get("value")}

    async def wait_for(self, count: int, timeout: float) -> None:
        """Until `count` tasks were received (raises TimeoutError after `timeout` s)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()


def dispatch_ms(received: Iterable[Received]) -> list[float]:
    """Scheduled → at the worker, per task."""
    return [r.at_ms - r.scheduled_ms for r in received]
