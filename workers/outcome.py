"""What worker code may return, and how each return value or exception becomes a TaskResult.

A worker returns a dict (COMPLETED with that output), None (COMPLETED with {}), an
`InProgress` (call me back later), or a ready `TaskResult`. An exception fails the task:
`NonRetryableError` terminally, anything else as a plain FAILED that the server may retry.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from workers.errors import NonRetryableError
from workers.model import Task, TaskLog, TaskResult, TaskResultStatus


@dataclass(frozen=True, slots=True)
class InProgress:
    """Return value meaning "not done yet: hand this task to a worker again later"."""

    callback_after_seconds: int
    output: Mapping[str, Any] = field(default_factory=dict)


Outcome: TypeAlias = TaskResult | Mapping[str, Any] | InProgress | None


def result_from_outcome(task: Task, outcome: object, worker_id: str) -> TaskResult:
    """Turn a worker's return value into the TaskResult to report."""
    if isinstance(outcome, TaskResult):
        # Sent as the worker built it; only the worker id is ours to fill in.
        if outcome.worker_id is None:
            return dataclasses.replace(outcome, worker_id=worker_id)
        return outcome
    if isinstance(outcome, InProgress):
        result = TaskResult.for_task(
            task,
            TaskResultStatus.IN_PROGRESS,
            outcome.output,
            callback_after_seconds=outcome.callback_after_seconds,
        )
    elif outcome is None:
        result = TaskResult.for_task(task, TaskResultStatus.COMPLETED)
    elif isinstance(outcome, Mapping):
        result = TaskResult.for_task(task, TaskResultStatus.COMPLETED, outcome)
    else:
        # A programming error in the worker; fail it like any other exception would.
        return result_from_exception(
            task,
            TypeError(
                f"worker returned {type(outcome).__name__}; "
                "expected dict, None, InProgress or TaskResult"
            ),
            worker_id,
        )
    return dataclasses.replace(result, worker_id=worker_id)


def result_from_exception(task: Task, exc: Exception, worker_id: str) -> TaskResult:
    """Turn an exception raised by worker code into a failed TaskResult."""
    terminal = isinstance(exc, NonRetryableError)
    status = TaskResultStatus.FAILED_WITH_TERMINAL_ERROR if terminal else TaskResultStatus.FAILED
    # The traceback goes to the task's execution log, where the UI shows it next to
    # the reason; the reason itself stays the short exception text.
    trace = "".join(traceback.format_exception(exc))
    result = TaskResult.for_task(
        task,
        status,
        reason_for_incompletion=str(exc) or type(exc).__name__,
        logs=(TaskLog(trace, task.task_id),),
    )
    return dataclasses.replace(result, worker_id=worker_id)
