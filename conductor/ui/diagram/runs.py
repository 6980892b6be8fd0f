"""The parts of an execution a diagram shows, read from the engine's WorkflowState or from
Conductor's execution JSON (GET /api/workflow/{id}), so a page may hand over either."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conductor.engine.model import JSON, TaskState, TaskStatus, WorkflowState


@dataclass(frozen=True)
class Run:
    """One task attempt. `status` is None when the JSON names a status this server lacks."""

    task_id: str
    ref: str  # with its DO_WHILE iteration suffix (`ref__N`)
    name: str  # taskDefName: what a DYNAMIC task became
    task_type: str
    status: TaskStatus | None
    seq: int
    iteration: int = 0
    input: JSON = field(default_factory=dict)
    output: JSON = field(default_factory=dict)
    reason: str | None = None
    sub_workflow_id: str | None = None


@dataclass(frozen=True)
class Execution:
    workflow_id: str
    status: str  # a WorkflowStatus value, kept as text so an unknown one still renders
    runs: tuple[Run, ...]


def execution_of(execution: WorkflowState | Mapping[str, Any]) -> Execution:
    """Read a WorkflowState, or the execution JSON as Conductor's API answers it."""
    if isinstance(execution, WorkflowState):
        return Execution(
            execution.workflow_id,
            execution.status.value,
            tuple(_from_state(t) for t in execution.tasks),
        )
    tasks = execution.get("tasks")
    return Execution(
        _text(execution.get("workflowId")),
        _text(execution.get("status")),
        tuple(_from_json(t) for t in tasks if isinstance(t, Mapping))
        if isinstance(tasks, list)
        else (),
    )


def _from_state(task: TaskState) -> Run:
    child = task.output_data.get("subWorkflowId")
    return Run(
        task_id=task.task_id,
        ref=task.ref_name,
        name=task.task_def_name,
        task_type=task.task_type,
        status=task.status,
        seq=task.seq,
        iteration=task.iteration,
        input=task.input_data,
        output=task.output_data,
        reason=task.reason_for_incompletion,
        sub_workflow_id=child if isinstance(child, str) and child else None,
    )


def _from_json(task: Mapping[str, Any]) -> Run:
    output = _mapping(task.get("outputData"))
    child = task.get("subWorkflowId") or output.get("subWorkflowId")
    try:
        status: TaskStatus | None = TaskStatus(_text(task.get("status")))
    except ValueError:
        status = None
    reason = task.get("reasonForIncompletion")
    return Run(
        task_id=_text(task.get("taskId")),
        ref=_text(task.get("referenceTaskName")),
        name=_text(task.get("taskDefName")),
        task_type=_text(task.get("taskType")),
        status=status,
        seq=_number(task.get("seq")),
        iteration=_number(task.get("iteration")),
        input=_mapping(task.get("inputData")),
        output=output,
        reason=reason if isinstance(reason, str) else None,
        sub_workflow_id=child if isinstance(child, str) and child else None,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> JSON:
    if isinstance(value, dict):
        return value
    return dict(value) if isinstance(value, Mapping) else {}
