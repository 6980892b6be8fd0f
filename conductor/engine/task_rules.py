"""Per-type WorkflowTask rules (conductor-spec §1.1 and §5): what each system task needs (the
table in engine/task_types.py says which rules a type has), forks followed by joins, and the
scripts and jq queries a definition holds (checked by the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from conductor.engine import waits
from conductor.engine.model import TaskType
from conductor.engine.problems import ValidationError
from conductor.engine.problems import is_blank as _is_blank
from conductor.engine.task_starts import SCRIPT_EVALUATORS, TERMINATION_STATUSES, event_queue
from conductor.engine.task_tree import children, walk

SUPPORTED_SWITCH_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}
INLINE_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}

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
    evaluator = task.get("evaluatorType")
    if _is_blank(evaluator):
        yield _at(where, "evaluatorType", "evaluatorType is required for SWITCH")
    elif evaluator not in SUPPORTED_SWITCH_EVALUATORS:
        message = f"evaluatorType {evaluator} is not supported by this server yet"
        yield _at(where, "evaluatorType", message, evaluator)
    if _is_blank(task.get("expression")):
        yield _at(where, "expression", "expression is required for SWITCH")


def decision(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if task.get("caseExpression") is not None:
        if _is_blank(task.get("caseExpression")):
            yield _at(where, "caseExpression", "caseExpression cannot be empty")
    elif _is_blank(task.get("caseValueParam")):
        message = "caseValueParam or caseExpression is required for DECISION"
        yield _at(where, "caseValueParam", message)


def inline(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    evaluator = _params(task).get("evaluatorType", "javascript")
    if evaluator not in INLINE_EVALUATORS:
        message = f"evaluatorType {evaluator} is not supported for INLINE tasks"
        yield _at(where, "inputParameters.evaluatorType", message, evaluator)
    if _is_blank(_params(task).get("expression")):
        yield _at(where, "inputParameters.expression", "expression is required for INLINE")


def do_while(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if _is_blank(task.get("loopCondition")):
        yield _at(where, "loopCondition", "loopCondition is required for DO_WHILE")
    body = task.get("loopOver")
    if not isinstance(body, list) or not body:
        yield _at(where, "loopOver", "loopOver should have atleast one task")
    elif any(t.get("type") == TaskType.DO_WHILE for t in walk(body)):
        yield _at(where, "loopOver", "a DO_WHILE inside a DO_WHILE is not supported")
    if task.get("items") is not None or "_items" in _params(task):
        yield _at(where, "items", "DO_WHILE over items is not supported by this server yet")


def event(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    sink = task.get("sink")
    if _is_blank(sink):
        yield _at(where, "sink", "sink is required for EVENT tasks")
    elif "${" not in str(sink) and event_queue(sink, "w", "r") is None:
        message = (
            f"sink {sink} is not supported by this server: only 'conductor' and "
            "'conductor:<queue>' are"
        )
        yield _at(where, "sink", message, sink)


def sub_workflow(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    params = task.get("subWorkflowParam")
    if not isinstance(params, dict) or (
        _is_blank(params.get("name")) and not params.get("workflowDefinition")
    ):
        message = "subWorkflowParam with a name (or a workflowDefinition) is required"
        yield _at(where, "subWorkflowParam", message)


def dynamic(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if _is_blank(task.get("dynamicTaskNameParam")):
        message = "dynamicTaskNameParam is required for DYNAMIC"
        yield _at(where, "dynamicTaskNameParam", message)


def jq(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    if _is_blank(_params(task).get("queryExpression")):
        message = "queryExpression is required for JSON_JQ_TRANSFORM"
        yield _at(where, "inputParameters.queryExpression", message)


def http(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    params = _params(task)
    task_def = task.get("taskDefinition") or {}
    templated = isinstance(task_def, dict) and "http_request" in (
        task_def.get("inputTemplate") or {}
    )
    if not (
        isinstance(params.get("http_request"), (dict, str))
        or (params.get("uri") and params.get("method"))
        or templated
    ):
        message = "HTTP task needs inputParameters.http_request (with uri and method)"
        yield _at(where, "inputParameters.http_request", message)


def dynamic_fork(task: dict[str, Any], where: str) -> Iterator[ValidationError]:
    simple = "forkTaskInputs" in _params(task)
    listed = bool(task.get("dynamicForkTasksParam")) and bool(
        task.get("dynamicForkTasksInputParamName")
    )
    legacy = bool(task.get("dynamicForkJoinTasksParam"))
    if simple + listed + legacy != 1:
        message = (
            "FORK_JOIN_DYNAMIC needs exactly one of: inputParameters.forkTaskInputs, "
            "dynamicForkTasksParam with dynamicForkTasksInputParamName, "
            "or dynamicForkJoinTasksParam"
        )
        yield _at(where, "dynamicForkTasksParam", message)


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


def forks_and_joins(
    tasks: list[dict[str, Any]], refs: set[str], path: str
) -> list[ValidationError]:
    """A FORK_JOIN must be followed by a JOIN. (A JOIN on a reference that never runs is valid in
    Conductor, where it simply never completes, so it is not refused here either.)"""
    errors: list[ValidationError] = []
    lists: list[list[Any]] = [tasks]
    while lists:
        siblings = lists.pop()
        for i, task in enumerate(siblings):
            if not isinstance(task, dict):
                continue
            lists.extend(children(task))
            where = f"{path}.tasks[{task.get('taskReferenceName')}]"
            if task.get("type") in (TaskType.FORK_JOIN, TaskType.FORK_JOIN_DYNAMIC):
                following = siblings[i + 1] if i + 1 < len(siblings) else None
                if not isinstance(following, dict) or following.get("type") != TaskType.JOIN:
                    errors.append(
                        ValidationError(
                            where,
                            "Fork task definition is not followed by a join task.  "
                            "Check the blueprint",
                        )
                    )
    return errors


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
