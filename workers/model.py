"""Wire shapes of the worker protocol: the polled `Task` and the `TaskResult` sent back.

These are small SDK-side copies of Conductor's JSON (spec §2.5, §2.6), deliberately not
shared with the server package: the library talks to any Conductor-compatible server.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class TaskResultStatus(enum.StrEnum):
    """Statuses a worker may report for a task."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"


def _str(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else default


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    # bool is an int subclass; the server never sends one for these fields.
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class Task:
    """A task handed out by a poll; `raw` keeps every field the server sent."""

    task_id: str
    workflow_instance_id: str
    task_type: str
    task_def_name: str = ""
    reference_task_name: str = ""
    input_data: Mapping[str, Any] = field(default_factory=dict)
    retry_count: int = 0
    poll_count: int = 0
    response_timeout_seconds: int = 0
    workflow_type: str = ""
    correlation_id: str | None = None
    iteration: int = 0
    domain: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, obj: object) -> Task:
        """Parse one Task object; raise ValueError if it cannot be reported back."""
        if not isinstance(obj, Mapping):
            raise ValueError(f"task must be a JSON object, got {type(obj).__name__}")
        task_id = _str(obj, "taskId")
        workflow_id = _str(obj, "workflowInstanceId")
        # Without both ids no TaskResult can be sent, so such a task is unusable.
        if not task_id or not workflow_id:
            raise ValueError("task lacks taskId or workflowInstanceId")
        input_data = obj.get("inputData")
        return cls(
            task_id=task_id,
            workflow_instance_id=workflow_id,
            task_type=_str(obj, "taskType"),
            task_def_name=_str(obj, "taskDefName"),
            reference_task_name=_str(obj, "referenceTaskName"),
            input_data=dict(input_data) if isinstance(input_data, Mapping) else {},
            retry_count=_int(obj, "retryCount"),
            poll_count=_int(obj, "pollCount"),
            response_timeout_seconds=_int(obj, "responseTimeoutSeconds"),
            workflow_type=_str(obj, "workflowType"),
            correlation_id=_opt_str(obj, "correlationId"),
            iteration=_int(obj, "iteration"),
            domain=_opt_str(obj, "domain"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class TaskLog:
    """One execution log line attached to a TaskResult."""

    log: str
    task_id: str
    created_time: int = field(default_factory=lambda: int(time.time() * 1000))

    def to_json(self) -> dict[str, Any]:
        """Return the camelCase JSON object (createdTime in epoch milliseconds)."""
        return {"log": self.log, "taskId": self.task_id, "createdTime": self.created_time}


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The outcome of one task execution, as POSTed to /tasks."""

    workflow_instance_id: str
    task_id: str
    status: TaskResultStatus
    output_data: Mapping[str, Any] = field(default_factory=dict)
    reason_for_incompletion: str | None = None
    callback_after_seconds: int | None = None
    worker_id: str | None = None
    logs: tuple[TaskLog, ...] | None = None

    @classmethod
    def for_task(
        cls,
        task: Task,
        status: TaskResultStatus,
        output_data: Mapping[str, Any] | None = None,
        *,
        reason_for_incompletion: str | None = None,
        callback_after_seconds: int | None = None,
        logs: tuple[TaskLog, ...] | None = None,
    ) -> TaskResult:
        """Build a result that answers `task`."""
        return cls(
            workflow_instance_id=task.workflow_instance_id,
            task_id=task.task_id,
            status=status,
            output_data=dict(output_data or {}),
            reason_for_incompletion=reason_for_incompletion,
            callback_after_seconds=callback_after_seconds,
            logs=logs,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the camelCase JSON body, omitting fields that are None."""
        body: dict[str, Any] = {
            "workflowInstanceId": self.workflow_instance_id,
            "taskId": self.task_id,
            "status": self.status.value,
            "outputData": dict(self.output_data),
            "reasonForIncompletion": self.reason_for_incompletion,
            "callbackAfterSeconds": self.callback_after_seconds,
            "workerId": self.worker_id,
            "logs": None if self.logs is None else [entry.to_json() for entry in self.logs],
        }
        return {key: value for key, value in body.items() if value is not None}
