"""Per-type WorkflowTask rules (conductor-spec §1.1 and §5): what each system task needs (the
table in engine/task_types.py says which rules a type has), and the scripts and jq queries a
definition holds (checked by the API).

No rule is stricter than Conductor's WorkflowTaskTypeConstraint: what Conductor accepts and then
fails at run time (an unknown SWITCH evaluator, a fork with no JOIN after it, a sink no queue
serves) is accepted here and fails the run the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from conductor.engine import waits
from conductor.engine.model import TaskType
from conductor.engine.problems import ValidationError
from conductor.engine.problems import is_blank as _is_blank
from conductor.engine.task_starts import SCRIPT_EVALUATORS, TERMINATION_STATUSES
from conductor.engine.task_tree import walk

# A rule yields what is wrong with a WorkflowTask of its type (`where` is the task's path).
Rule = Callable[[dict[str, Any], str], Iterator[ValidationError]]


def _at(where: str, field: str, message: str, value: Any = None) -> ValidationError:
    return ValidationError(f"{where}.{field}", message, value)


def _params(task: dict[str, Any]) -> dict[str, Any]:
    params = task.get("inputParameters")
    return params if isinstance(params, dict) else {}


def cases(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    cases = task.get("decisionCases")
    if not isinstance(cases, dict) or not cases:
        message = f"decisionCases should have atleast one task for {task.get('type')}"
        yield _at(where, "decisionCases", message)
    elif not all(isinstance(branch, list) for branch in cases.values()):
        yield _at(where, "decisionCases", "each decision case must be a list of tasks")
    default = task.get("defaultCase")
    if default is not None and not isinstance(default, list):
        yield _at(where, "defaultCase", "defaultCase must be a list of tasks")


def switch(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    """Only presence, as Conductor: an evaluator no server has fails the run when it starts."""
    if task.get("evaluatorType") is None:
        yield _at(where, "evaluatorType", "evaluatorType is required for SWITCH")
    elif task.get("expression") is None:
        yield _at(where, "expression", "expression is required for SWITCH")


def decision(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if task.get("caseExpression") is None and task.get("caseValueParam") is None:
        message = "caseValueParam or caseExpression is required for DECISION"
        yield _at(where, "caseValueParam", message)


def do_while(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if task.get("loopCondition") is None:
        yield _at(where, "loopCondition", "loopCondition is required for DO_WHILE")
    body = task.get("loopOver")
    if not isinstance(body, list) or not body:
        yield _at(where, "loopOver", "loopOver should have atleast one task")
    elif any(t.get("type") == TaskType.DO_WHILE for t in walk(body)):
        yield _at(where, "loopOver", "a DO_WHILE inside a DO_WHILE is not supported")
    if task.get("items") is not None or "_items" in _params(task):
        yield _at(where, "items", "DO_WHILE over items is not supported by this server yet")


def event(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    """Any sink is stored, as by Conductor; one this server cannot publish to fails the task
    when it runs (engine/task_starts.event)."""
    if task.get("sink") is None:
        yield _at(where, "sink", "sink is required for EVENT tasks")


def sub_workflow(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    params = task.get("subWorkflowParam")
    if not isinstance(params, dict) or (
        _is_blank(params.get("name")) and not params.get("workflowDefinition")
    ):
        message = "subWorkflowParam with a name (or a workflowDefinition) is required"
        yield _at(where, "subWorkflowParam", message)


def dynamic(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if task.get("dynamicTaskNameParam") is None:
        message = "dynamicTaskNameParam is required for DYNAMIC"
        yield _at(where, "dynamicTaskNameParam", message)


def _templated(task: dict[str, Any], key: str) -> bool:
    """Whether the WorkflowTask's inline TaskDef gives `key` through its inputTemplate."""
    task_def = task.get("taskDefinition")
    template = task_def.get("inputTemplate") if isinstance(task_def, dict) else None
    return isinstance(template, dict) and key in template


def jq(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if "queryExpression" not in _params(task) and not _templated(task, "queryExpression"):
        message = "queryExpression is required for JSON_JQ_TRANSFORM"
        yield _at(where, "inputParameters.queryExpression", message)


def http(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    params = _params(task)
    if not (
        "http_request" in params
        or "uri" in params
        or "method" in params
        or _templated(task, "http_request")
    ):
        message = "inputParameters.http_request or inputParameters.uri is required for HTTP"
        yield _at(where, "inputParameters.http_request", message)


def dynamic_fork(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    """Conductor's rule: forkTaskInputs alone will do; otherwise the legacy
    dynamicForkJoinTasksParam, or dynamicForkTasksParam with dynamicForkTasksInputParamName,
    but not both."""
    if "forkTaskInputs" in _params(task):
        return
    legacy = task.get("dynamicForkJoinTasksParam") is not None
    tasks_param = task.get("dynamicForkTasksParam")
    inputs_param = task.get("dynamicForkTasksInputParamName")
    if legacy and (tasks_param is not None or inputs_param is not None):
        message = (
            "dynamicForkJoinTasksParam or combination of dynamicForkTasksInputParamName and "
            "dynamicForkTasksParam can be used for FORK_JOIN_DYNAMIC"
        )
        yield _at(where, "dynamicForkJoinTasksParam", message)
    elif not legacy:
        if tasks_param is None:
            message = "dynamicForkTasksParam is required for FORK_JOIN_DYNAMIC"
            yield _at(where, "dynamicForkTasksParam", message)
        if inputs_param is None:
            message = "dynamicForkTasksInputParamName is required for FORK_JOIN_DYNAMIC"
            yield _at(where, "dynamicForkTasksInputParamName", message)


def fork(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    forks = task.get("forkTasks")
    if not isinstance(forks, list) or not forks or not all(isinstance(f, list) for f in forks):
        yield _at(where, "forkTasks", "forkTasks should have atleast one task")


def join(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    join_on = task.get("joinOn")
    if join_on is not None and (
        not isinstance(join_on, list) or not all(isinstance(r, str) for r in join_on)
    ):
        yield _at(where, "joinOn", "joinOn must be a list of task references")


def terminate(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if task.get("optional"):
        yield _at(where, "optional", "TERMINATE task cannot be optional")
    status = _params(task).get("terminationStatus")
    if not (isinstance(status, str) and (status in TERMINATION_STATUSES or "${" in status)):
        message = f"terminationStatus should be one of {', '.join(TERMINATION_STATUSES)}"
        yield _at(where, "inputParameters.terminationStatus", message, status)


def wait(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    params = _params(task)
    duration, until = params.get("duration"), params.get("until")
    if duration not in (None, "") and until not in (None, ""):
        message = "Both 'duration' and 'until' specified. Please provide only one input"
        yield _at(where, "inputParameters", message)
        return
    for key, value, parse in (
        ("duration", duration, waits.duration_ms),
        ("until", until, waits.until_ms),
    ):
        if isinstance(value, str) and value and "${" not in value:
            try:
                parse(value)
            except waits.WaitError as exc:
                yield _at(where, f"inputParameters.{key}", str(exc), value)
                return


def scripts_of(definition: dict[str, Any], path: str = "workflowDef") -> list[tuple[str, str]]:
    """(field path, JavaScript source) of every script in a definition, for a syntax check."""
    found: list[tuple[str, str]] = []
    for task in walk(definition.get("tasks") or []):
        where = f"{path}.tasks[{task.get('taskReferenceName')}]"
        kind = task.get("type")
        if kind == TaskType.SWITCH and task.get("evaluatorType") in SCRIPT_EVALUATORS:
            found.append((f"{where}.expression", str(task.get("expression") or "")))
        elif kind == TaskType.DO_WHILE and isinstance(task.get("loopCondition"), str):
            found.append((f"{where}.loopCondition", task["loopCondition"]))
        elif kind == TaskType.DECISION and isinstance(task.get("caseExpression"), str):
            found.append((f"{where}.caseExpression", task["caseExpression"]))
        elif kind == TaskType.INLINE:
            params = task.get("inputParameters") or {}
            code = params.get("expression")
            if params.get("evaluatorType", "javascript") in SCRIPT_EVALUATORS and (
                isinstance(code, str) and "${" not in code
            ):
                found.append((f"{where}.inputParameters.expression", code))
    return found


def jq_queries_of(definition: dict[str, Any], path: str = "workflowDef") -> list[tuple[str, str]]:
    """(field path, jq query) of every literal JSON_JQ_TRANSFORM query, for a compile check."""
    found: list[tuple[str, str]] = []
    for task in walk(definition.get("tasks") or []):
        if task.get("type") != TaskType.JSON_JQ_TRANSFORM:
            continue
        query = (task.get("inputParameters") or {}).get("queryExpression")
        if isinstance(query, str) and "${" not in query:
            where = f"{path}.tasks[{task.get('taskReferenceName')}].inputParameters.queryExpression"
            found.append((where, query))
    return found
