"""What each system task does when the decider starts it (conductor-spec §5).

A starter gives a freshly created task its first status and output, and may ask for a wake-up
(WAIT) or publish a message (EVENT); engine/task_types.py says which starter a type uses. Flow
control (which task comes next) stays in the decider; this module only computes each task's own
result. Everything here is pure: the time arrives as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from conductor.engine import waits
from conductor.engine.model import JSON, TaskState, TaskStatus, TaskType, WorkflowState
from conductor.engine.templates import build_document, java_string, resolve

TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
MAX_VARIABLES_BYTES = 256 * 1024
SCRIPT_EVALUATORS = frozenset({"javascript", "graaljs"})


@dataclass(frozen=True)
class StartResult:
    status: TaskStatus
    output: JSON
    reason: str | None = None
    # When the task completes by itself (epoch ms), on a durable timer (WAIT).
    wake_at: int | None = None
    # The `conductor` queue the task's output is published to (EVENT).
    publish_to: str | None = None


# (task, its workflow, now) -> the task's first status and output.
Starter = Callable[[TaskState, WorkflowState, int], StartResult]


# The types that read `asyncComplete`: after their work (a 2xx answer, a published message) such
# a task stays IN_PROGRESS until an external update completes it (Conductor's HttpTask and Event).
ASYNC_COMPLETE_TYPES = frozenset({TaskType.HTTP.value, TaskType.EVENT.value})


def mark_async_complete(task: TaskState) -> None:
    """As Conductor's HTTP and EVENT mappers do: the WorkflowTask's flag goes into the input."""
    task.input_data["asyncComplete"] = task.workflow_task.get("asyncComplete") is True


def async_complete(task: TaskState) -> bool:
    """Conductor's WorkflowSystemTask.isAsyncComplete, for the types that read it: the input's
    `asyncComplete` when it has one, else the WorkflowTask's."""
    if task.task_type not in ASYNC_COMPLETE_TYPES:
        return False
    if "asyncComplete" in task.input_data:
        return task.input_data["asyncComplete"] is True
    return task.workflow_task.get("asyncComplete") is True


def prepare_http(task: TaskState, _doc: JSON) -> None:
    mark_async_complete(task)


def completed(_task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    return StartResult(TaskStatus.COMPLETED, {})


def in_progress(_task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    return StartResult(TaskStatus.IN_PROGRESS, {})


def switch(task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    wt = task.workflow_task
    case = java_string(task.input_data.get(str(wt.get("expression"))))
    _note_case(task, case)
    return StartResult(TaskStatus.COMPLETED, {"evaluationResult": [case], "selectedCase": case})


def decision(task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    case = java_string(task.input_data.get(str(task.workflow_task.get("caseValueParam"))))
    _note_case(task, case)
    return StartResult(TaskStatus.COMPLETED, {"caseOutput": [case]})


def _note_case(task: TaskState, case: str) -> None:
    task.input_data["case"] = case
    if selected_branch(task.workflow_task, case):
        task.input_data["hasChildren"] = "true"


def record_case(task: TaskState) -> None:
    """Copy a SWITCH/DECISION case computed outside the decider into the task's input."""
    output = task.output_data
    case = output.get("selectedCase")
    if case is None and isinstance(output.get("caseOutput"), list) and output["caseOutput"]:
        case = output["caseOutput"][0]
    if case is not None:
        _note_case(task, str(case))


def selected_branch(workflow_task: JSON, case: str) -> list[JSON]:
    """The branch a SWITCH or DECISION case selects (conductor-spec §5.5, §5.6)."""
    cases = workflow_task.get("decisionCases") or {}
    default = workflow_task.get("defaultCase") or []
    if workflow_task.get("type") == TaskType.DECISION:  # an empty branch falls back too
        return list(cases.get(case) or default)
    return list(cases[case]) if case in cases else list(default)


def set_variable(task: TaskState, state: WorkflowState, _now: int) -> StartResult:
    merged = {**state.variables, **task.input_data}
    size = len(orjson.dumps(merged))
    if size > MAX_VARIABLES_BYTES:
        return StartResult(
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            {},
            f"The variables payload size: {size} of workflow: {state.workflow_id} is greater "
            f"than the permissible limit: {MAX_VARIABLES_BYTES // 1024} kilobytes",
        )
    state.variables = merged
    return StartResult(TaskStatus.COMPLETED, {})


def terminate(task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    status = task.input_data.get("terminationStatus")
    if status not in TERMINATION_STATUSES:
        return StartResult(
            TaskStatus.FAILED,
            {},
            f"terminationStatus must be one of {', '.join(TERMINATION_STATUSES)}, got {status}",
        )
    output = task.input_data.get("workflowOutput")
    if output is None:
        output = {}
    return StartResult(
        TaskStatus.COMPLETED, output if isinstance(output, dict) else {"output": output}
    )


def event_queue(sink: Any, workflow_name: str, ref: str) -> str | None:
    """The `conductor` queue an EVENT sink names, or None for a sink this server lacks."""
    if sink == "conductor":
        return f"conductor:{workflow_name}:{ref}"
    if isinstance(sink, str) and sink.startswith("conductor:") and sink.count(":") == 1:
        return f"conductor:{workflow_name}:{sink.split(':', 1)[1]}"
    return None


def _sink_problem(sink: Any, task_id: str) -> str:
    """Conductor's reason for an EVENT task whose sink it cannot publish to (Event.java): a
    malformed `conductor...` sink, or a queue type with no provider (here, every other type)."""
    text = "" if sink is None else str(sink)
    if text.startswith("conductor"):
        return f"Invalid / Unsupported sink specified: {text}"
    kind, colon, _ = text.partition(":")
    error = f"Unknown queue type {kind}" if colon else f"Illegal event {text}"
    return f"Error loading queue:{text}, for task:{task_id}, error: {error}"


def event(task: TaskState, state: WorkflowState, _now: int) -> StartResult:
    """Publish the task's input (and the run's ids) to its sink's queue; with asyncComplete the
    task then waits IN_PROGRESS for an external update, as Conductor's Event does."""
    sink = resolve(task.workflow_task.get("sink"), build_document(state))
    # Conductor's EventTaskMapper puts the resolved sink and the flag in the input.
    task.input_data["sink"] = sink
    mark_async_complete(task)
    queue = event_queue(sink, state.name, task.ref_name)
    if queue is None:
        return StartResult(TaskStatus.FAILED, {}, _sink_problem(sink, task.task_id))
    output = {
        **task.input_data,
        "workflowInstanceId": state.workflow_id,
        "workflowType": state.name,
        "workflowVersion": state.version,
        "correlationId": state.correlation_id,
        "event_produced": queue,
    }
    status = TaskStatus.IN_PROGRESS if async_complete(task) else TaskStatus.COMPLETED
    return StartResult(status, output, publish_to=queue)


def join(task: TaskState, _state: WorkflowState, _now: int) -> StartResult:
    suffix = f"__{task.iteration}" if task.iteration > 0 else ""  # a JOIN inside a loop
    task.input_data["joinOn"] = [f"{r}{suffix}" for r in task.workflow_task.get("joinOn") or []]
    if task.workflow_task.get("type") == TaskType.EXCLUSIVE_JOIN:
        default = task.workflow_task.get("defaultExclusiveJoinTask") or []
        task.input_data["defaultExclusiveJoinTask"] = list(default)
    return StartResult(TaskStatus.IN_PROGRESS, {})


def wait(task: TaskState, _state: WorkflowState, now: int) -> StartResult:
    """IN_PROGRESS until its due time (a durable timer) or, without one, an external update."""
    try:
        due = waits.due_time(task.input_data.get("duration"), task.input_data.get("until"), now)
    except waits.WaitError as exc:
        return StartResult(TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, str(exc))
    return StartResult(TaskStatus.IN_PROGRESS, {}, wake_at=None if due is None else max(due, 1))


def prepare_sub_workflow(task: TaskState, doc: JSON) -> None:
    """A SUB_WORKFLOW's input, from its subWorkflowParam resolved against the workflow."""
    raw = task.workflow_task.get("subWorkflowParam") or {}
    inline = raw.get("workflowDefinition")
    # An embedded definition runs in the child: its templates are the child's, not ours.
    # (One given as a `${...}` string is an expression of ours, and is resolved.)
    params = resolve({k: v for k, v in raw.items() if k != "workflowDefinition"}, doc)
    params["workflowDefinition"] = inline if isinstance(inline, dict) else resolve(inline, doc)
    task.input_data = {
        "subWorkflowName": params.get("name"),
        "subWorkflowVersion": params.get("version"),
        "subWorkflowTaskToDomain": params.get("taskToDomain"),
        "subWorkflowDefinition": params.get("workflowDefinition"),
        "priority": params.get("priority"),
        "workflowInput": task.input_data,
    }


def dynamic(workflow_task: JSON, doc: JSON) -> JSON | str:
    """DYNAMIC: the worker task its input names, or why none can be mapped."""
    param = str(workflow_task.get("dynamicTaskNameParam"))
    params = workflow_task.get("inputParameters") or {}
    name = resolve(params.get(param), doc)
    if not isinstance(name, str) or not name:
        return (
            "Cannot map a dynamic task based on the parameter and input. "
            f"Parameter= {param}, input= {java_string(resolve(params, doc))}"
        )
    return {**workflow_task, "name": name, "type": TaskType.SIMPLE.value}
