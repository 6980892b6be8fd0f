"""What starting a workflow needs, and the one reading of Conductor's StartWorkflowRequest JSON
(the API, schedules, event handler actions and START_WORKFLOW tasks all send that shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conductor.engine.model import JSON, WorkflowState
from conductor.wire import numbers
from conductor.wire.render import workflow_json

IDEMPOTENCY_STRATEGIES = ("FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING")


@dataclass
class StartRequest:
    name: str
    version: int | None = None
    input: JSON = field(default_factory=dict)
    correlation_id: str | None = None
    priority: int = 0
    task_to_domain: JSON = field(default_factory=dict)
    workflow_def: JSON | None = None
    created_by: str | None = None
    idempotency_key: str | None = None
    idempotency_strategy: str = "FAIL"  # one of IDEMPOTENCY_STRATEGIES
    # Set by SUB_WORKFLOW, START_WORKFLOW, schedules and event handlers: a deterministic id makes
    # a repeated launch a no-op.
    workflow_id: str | None = None
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None


def start_request(body: JSON, **launch: Any) -> StartRequest:
    """A StartRequest from StartWorkflowRequest JSON. Lenient: a field of the wrong type keeps
    its default (the API refuses such requests before it gets here). `launch` sets what the JSON
    does not carry (a derived workflow id, a parent)."""
    numbers.start_request(body)
    inline = _of(body, "workflowDef", dict)
    name = _of(body, "name", str) or (_of(inline, "name", str) if inline else None)
    version = _of(body, "version", int)
    strategy = body.get("idempotencyStrategy")
    return StartRequest(
        name=name or "",
        version=version or None,  # 0 or none: the latest version
        input=dict(_of(body, "input", dict) or {}),
        correlation_id=_of(body, "correlationId", str),
        priority=_of(body, "priority", int) or 0,
        task_to_domain=dict(_of(body, "taskToDomain", dict) or {}),
        workflow_def=inline,
        created_by=_of(body, "createdBy", str),
        idempotency_key=_of(body, "idempotencyKey", str) or None,
        idempotency_strategy=strategy if strategy in IDEMPOTENCY_STRATEGIES else "FAIL",
        **launch,
    )


def failure_workflow_start(failed: WorkflowState, request: JSON) -> StartRequest:
    """The start of a failed run's failureWorkflow, with Conductor's input (the failed run's input
    plus workflowId, reason, failureStatus, failureTaskId and the failed run itself). `request`
    is what the decider armed (engine/decider.py): the new run's id, name, version, reason,
    status and failed task."""
    workflow_input: JSON = {
        **failed.input,
        "workflowId": failed.workflow_id,
        "reason": request.get("reason"),
        "failureStatus": request.get("failureStatus"),
        "failedWorkflow": workflow_json(failed),
    }
    if request.get("failureTaskId"):
        workflow_input["failureTaskId"] = request["failureTaskId"]
    version = request.get("version")
    return StartRequest(
        name=str(request.get("name")),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        input=workflow_input,
        correlation_id=failed.correlation_id,
        task_to_domain=dict(failed.task_to_domain),
        workflow_id=str(request.get("workflowId")),
    )


def _of(body: JSON | None, key: str, kind: type) -> Any:
    """`body[key]` when it has the JSON type `kind` (a boolean is never an int); else None."""
    value = body.get(key) if body else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return None
    return value
