"""The launching runtimes: SUB_WORKFLOW starts its child run, START_WORKFLOW an independent one.

A launch is idempotent: the new run's id is derived from the task attempt, so a launch repeated
after a crash finds the run it started and reports it again.
"""

from __future__ import annotations

import uuid
from typing import Any

from conductor.engine.inputs import Input, TaskResultReceived
from conductor.engine.model import TaskState, TaskStatus
from conductor.engine.validation import validate_workflow_def
from conductor.errors import NotFound, PayloadTooLarge
from conductor.executor import Executor
from conductor.store.workflows import WorkflowStore
from conductor.wire.start_request import StartRequest, start_request


class Launches:
    def __init__(self, executor: Executor, workflows: WorkflowStore) -> None:
        self.executor = executor
        self.workflows = workflows

    async def sub_workflow(self, task: TaskState) -> Input:
        """Start the child (the task then waits for it to end)."""
        params = task.input_data
        parent = await self.workflows.read(task.workflow_id, include_tasks=False)
        if parent is None:
            return _result(task, TaskStatus.CANCELED, reason="Parent workflow was removed")
        inline = params.get("subWorkflowDefinition")
        name = params.get("subWorkflowName") or (inline or {}).get("name")
        child_input = params.get("workflowInput") or {}
        if isinstance(inline, dict) and isinstance(child_input, dict):
            child_input = {**child_input, "_systemMetadata": {"dynamic": True}}
        version = params.get("subWorkflowVersion")
        request = StartRequest(
            name=str(name),
            version=version if isinstance(version, int) and version > 0 else None,
            input=child_input if isinstance(child_input, dict) else {},
            correlation_id=parent.correlation_id,
            priority=_priority(params.get("priority"), parent.priority),
            task_to_domain=params.get("subWorkflowTaskToDomain") or parent.task_to_domain,
            workflow_def=inline if isinstance(inline, dict) else None,
            workflow_id=_derived_id("subworkflow", task),
            parent_workflow_id=task.workflow_id,
            parent_workflow_task_id=task.task_id,
        )
        try:
            child = await self.executor.start(request)
        except (NotFound, PayloadTooLarge) as exc:
            return _result(task, TaskStatus.FAILED, reason=exc.message)
        output = {"subWorkflowId": child.workflow_id}
        return _result(task, TaskStatus.IN_PROGRESS, output)

    async def start_workflow(self, task: TaskState) -> Input:
        spec = task.input_data.get("startWorkflow")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            reason = "startWorkflow validation failed. 'startWorkflow.name' -> must not be empty."
            return _result(task, TaskStatus.FAILED, reason=reason)
        inline = spec.get("workflowDef")
        if isinstance(inline, dict):
            inline = {"version": 1, "schemaVersion": 2, **inline}
            problems = validate_workflow_def(inline, "startWorkflow.workflowDef")
            if problems:
                first = problems[0]
                reason = f"startWorkflow validation failed. '{first.path}' -> {first.message}."
                return _result(task, TaskStatus.FAILED, reason=reason)
        parent = await self.workflows.read(task.workflow_id, include_tasks=False)
        request = start_request(
            {**spec, "workflowDef": inline}, workflow_id=_derived_id("startworkflow", task)
        )
        # Unset correlation and domains come from the workflow that starts it.
        request.correlation_id = request.correlation_id or (
            parent.correlation_id if parent else None
        )
        request.task_to_domain = request.task_to_domain or (
            dict(parent.task_to_domain) if parent else {}
        )
        try:
            started = await self.executor.start(request)
        except (NotFound, PayloadTooLarge) as exc:
            return _result(task, TaskStatus.FAILED, reason=exc.message)
        return _result(task, TaskStatus.COMPLETED, {"workflowId": started.workflow_id})


def _result(
    task: TaskState,
    status: TaskStatus,
    output: dict[str, Any] | None = None,
    reason: str | None = None,
) -> TaskResultReceived:
    return TaskResultReceived(task.task_id, status, output=output or {}, reason=reason)


def _derived_id(kind: str, task: TaskState) -> str:
    """The same id for every launch of one task attempt (Conductor derives sub-workflow ids too)."""
    name = f"{kind}:{task.workflow_id}:{task.task_id}:{task.retry_count}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _priority(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
