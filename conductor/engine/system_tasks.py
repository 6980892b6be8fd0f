"""System tasks the decider runs itself, synchronously, when it schedules them (conductor-spec §5).

`start` gives a freshly created task its first status and output; `join_outcome` evaluates a
JOIN against its branches. Flow control (which task comes next) stays in the decider; this module
only computes each task's own result. Everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from conductor.engine.model import JSON, TaskState, TaskStatus, WorkflowState
from conductor.engine.templates import build_document, java_string, resolve

# Types that are part of the flow itself: never retried (DeciderService.retry).
BUILT_IN_TYPES = frozenset({"SWITCH", "DECISION", "FORK", "JOIN", "EXCLUSIVE_JOIN", "DO_WHILE"})
TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
MAX_VARIABLES_BYTES = 256 * 1024


@dataclass(frozen=True)
class StartResult:
    status: TaskStatus
    output: JSON
    reason: str | None = None


SCRIPT_EVALUATORS = frozenset({"javascript", "graaljs"})


def is_deferred(workflow_task: JSON) -> bool:
    """Tasks whose work runs outside the decider (scripts): scheduled now, completed by a result."""
    kind = workflow_task.get("type")
    if kind in ("INLINE", "JSON_JQ_TRANSFORM", "HTTP", "SUB_WORKFLOW", "START_WORKFLOW"):
        return True
    if kind == "SWITCH":
        return workflow_task.get("evaluatorType") in SCRIPT_EVALUATORS
    return kind == "DECISION" and workflow_task.get("caseExpression") is not None


def prepare(task: TaskState, doc: JSON) -> None:
    """Input of a deferred task that depends on the workflow (SUB_WORKFLOW's parameters)."""
    if task.workflow_task.get("type") != "SUB_WORKFLOW":
        return
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


def record_case(task: TaskState) -> None:
    """Copy a SWITCH/DECISION case computed outside the decider into the task's input."""
    output = task.output_data
    case = output.get("selectedCase")
    if case is None and isinstance(output.get("caseOutput"), list) and output["caseOutput"]:
        case = output["caseOutput"][0]
    if case is None:
        return
    task.input_data["case"] = str(case)
    if selected_branch(task.workflow_task, str(case)):
        task.input_data["hasChildren"] = "true"


def start(task: TaskState, state: WorkflowState) -> StartResult | None:
    """The result of starting a system task, or None for a type this module does not run."""
    kind = str(task.workflow_task.get("type") or "SIMPLE")
    starter = _STARTERS.get(kind)
    return starter(task, state) if starter is not None else None


def _completed(_task: TaskState, _state: WorkflowState) -> StartResult:
    return StartResult(TaskStatus.COMPLETED, {})


def _in_progress(_task: TaskState, _state: WorkflowState) -> StartResult:
    return StartResult(TaskStatus.IN_PROGRESS, {})


def _switch(task: TaskState, _state: WorkflowState) -> StartResult:
    wt = task.workflow_task
    case = java_string(task.input_data.get(str(wt.get("expression"))))
    branch = selected_branch(wt, case)
    task.input_data["case"] = case
    if branch:
        task.input_data["hasChildren"] = "true"
    return StartResult(TaskStatus.COMPLETED, {"evaluationResult": [case], "selectedCase": case})


def _decision(task: TaskState, _state: WorkflowState) -> StartResult:
    wt = task.workflow_task
    case = java_string(task.input_data.get(str(wt.get("caseValueParam"))))
    task.input_data["case"] = case
    if selected_branch(wt, case):
        task.input_data["hasChildren"] = "true"
    return StartResult(TaskStatus.COMPLETED, {"caseOutput": [case]})


def selected_branch(workflow_task: JSON, case: str) -> list[JSON]:
    """The branch a SWITCH or DECISION case selects (conductor-spec §5.5, §5.6)."""
    cases = workflow_task.get("decisionCases") or {}
    default = workflow_task.get("defaultCase") or []
    if workflow_task.get("type") == "DECISION":  # an empty branch falls back to the default too
        return list(cases.get(case) or default)
    return list(cases[case]) if case in cases else list(default)


def _set_variable(task: TaskState, state: WorkflowState) -> StartResult:
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


def _terminate(task: TaskState, _state: WorkflowState) -> StartResult:
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


def _event(task: TaskState, state: WorkflowState) -> StartResult:
    sink = resolve(task.workflow_task.get("sink"), build_document(state))
    queue = event_queue(sink, state.name, task.ref_name)
    if queue is None:
        return StartResult(TaskStatus.FAILED, {}, f"Invalid / Unsupported sink specified: {sink}")
    output = {
        **task.input_data,
        "workflowInstanceId": state.workflow_id,
        "workflowType": state.name,
        "workflowVersion": state.version,
        "correlationId": state.correlation_id,
        "event_produced": queue,
    }
    return StartResult(TaskStatus.COMPLETED, output)


def _join(task: TaskState, _state: WorkflowState) -> StartResult:
    suffix = f"__{task.iteration}" if task.iteration > 0 else ""  # a JOIN inside a loop
    task.input_data["joinOn"] = [f"{r}{suffix}" for r in task.workflow_task.get("joinOn") or []]
    if task.workflow_task.get("type") == "EXCLUSIVE_JOIN":
        default = task.workflow_task.get("defaultExclusiveJoinTask") or []
        task.input_data["defaultExclusiveJoinTask"] = list(default)
    return StartResult(TaskStatus.IN_PROGRESS, {})


_STARTERS: dict[str, Any] = {
    "NOOP": _completed,
    "HUMAN": _in_progress,
    "SWITCH": _switch,
    "DECISION": _decision,
    "FORK_JOIN": _completed,
    "FORK_JOIN_DYNAMIC": _completed,
    "SET_VARIABLE": _set_variable,
    "TERMINATE": _terminate,
    "JOIN": _join,
    "EXCLUSIVE_JOIN": _join,
    "DO_WHILE": _in_progress,
    "EVENT": _event,
}

SYNC_TYPES = frozenset(_STARTERS)
# Types this build can run: the sync ones, plus those handed to the server's script runner.
SUPPORTED_TYPES = SYNC_TYPES | {
    "INLINE",
    "JSON_JQ_TRANSFORM",
    "HTTP",
    "DYNAMIC",
    "SUB_WORKFLOW",
    "START_WORKFLOW",
    "WAIT",
}


@dataclass(frozen=True)
class JoinOutcome:
    status: TaskStatus
    output: JSON
    reason: str | None = None


def join_outcome(join: TaskState, tasks_by_ref: dict[str, TaskState]) -> JoinOutcome | None:
    """Evaluate a JOIN (conductor-spec §5.7); None while it must keep waiting."""
    refs = [str(r) for r in join.input_data.get("joinOn") or []]
    output: JSON = {}
    joined = [tasks_by_ref[r] for r in refs if r in tasks_by_ref]
    for task in joined:
        if task.output_data:
            output[task.ref_name] = task.output_data
    all_terminal = len(joined) == len(refs) and all(t.status.terminal for t in joined)
    failed = [
        t
        for t in joined
        if t.status.terminal and not t.status.successful and not t.optional and not t.retried
    ]
    blocking = [t for t in failed if not t.workflow_task.get("permissive") or all_terminal]
    if blocking:
        canceled = all(t.status is TaskStatus.CANCELED for t in blocking)
        reason = " ".join(t.reason_for_incompletion or "" for t in blocking).strip()
        return JoinOutcome(
            TaskStatus.CANCELED if canceled else TaskStatus.FAILED, output, reason or None
        )
    if not all_terminal:
        return None
    with_errors = [t for t in joined if t.status is TaskStatus.COMPLETED_WITH_ERRORS]
    if with_errors:
        reason = " ".join(
            f"{t.task_def_name}/{t.task_id} completed with errors" for t in with_errors
        )
        return JoinOutcome(TaskStatus.COMPLETED_WITH_ERRORS, output, reason)
    return JoinOutcome(TaskStatus.COMPLETED, output)


def exclusive_join_outcome(
    join: TaskState, tasks_by_ref: dict[str, TaskState]
) -> JoinOutcome | None:
    """EXCLUSIVE_JOIN (conductor-spec §5.8b): the first joined task that ran decides."""
    for key in ("joinOn", "defaultExclusiveJoinTask"):
        refs = [str(r) for r in join.input_data.get(key) or []]
        for ref in refs:
            task = tasks_by_ref.get(ref)
            if task is None or task.status is TaskStatus.SKIPPED:
                continue
            if not task.status.terminal or task.retried:
                return None
            if task.status.successful:
                return JoinOutcome(TaskStatus.COMPLETED, dict(task.output_data))
            return JoinOutcome(TaskStatus.FAILED, {}, task.reason_for_incompletion)
    return None
