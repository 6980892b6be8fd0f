"""Per-type WorkflowTask rules (conductor-spec §1.1 and §5): what each system task needs (the
table in engine/task_types.py says which rules a type has), forks followed by joins, and the
scripts and jq queries a definition holds (checked by the API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conductor.engine import waits
from conductor.engine.model import TaskType
from conductor.engine.problems import ValidationError
from conductor.engine.problems import is_blank as _is_blank
from conductor.engine.task_starts import SCRIPT_EVALUATORS, TERMINATION_STATUSES, event_queue
from conductor.engine.task_tree import children, walk

SUPPORTED_SWITCH_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}
INLINE_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}

Rule = Callable[[dict[str, Any], str], list[ValidationError]]


def cases(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    cases = task.get("decisionCases")
    if not isinstance(cases, dict) or not cases:
        errors.append(
            ValidationError(
                f"{where}.decisionCases",
                f"decisionCases should have atleast one task for {task.get('type')}",
            )
        )
    elif not all(isinstance(branch, list) for branch in cases.values()):
        errors.append(
            ValidationError(f"{where}.decisionCases", "each decision case must be a list of tasks")
        )
    default = task.get("defaultCase")
    if default is not None and not isinstance(default, list):
        errors.append(
            ValidationError(f"{where}.defaultCase", "defaultCase must be a list of tasks")
        )
    return errors


def switch(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    evaluator = task.get("evaluatorType")
    if _is_blank(evaluator):
        errors.append(
            ValidationError(f"{where}.evaluatorType", "evaluatorType is required for SWITCH")
        )
    elif evaluator not in SUPPORTED_SWITCH_EVALUATORS:
        errors.append(
            ValidationError(
                f"{where}.evaluatorType",
                f"evaluatorType {evaluator} is not supported by this server yet",
                evaluator,
            )
        )
    if _is_blank(task.get("expression")):
        errors.append(ValidationError(f"{where}.expression", "expression is required for SWITCH"))
    return errors


def inline(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    params = task.get("inputParameters") or {}
    evaluator = params.get("evaluatorType", "javascript")
    if evaluator not in INLINE_EVALUATORS:
        errors.append(
            ValidationError(
                f"{where}.inputParameters.evaluatorType",
                f"evaluatorType {evaluator} is not supported for INLINE tasks",
                evaluator,
            )
        )
    if _is_blank(params.get("expression")):
        errors.append(
            ValidationError(
                f"{where}.inputParameters.expression", "expression is required for INLINE"
            )
        )
    return errors


def do_while(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    if _is_blank(task.get("loopCondition")):
        errors.append(
            ValidationError(f"{where}.loopCondition", "loopCondition is required for DO_WHILE")
        )
    body = task.get("loopOver")
    if not isinstance(body, list) or not body:
        errors.append(ValidationError(f"{where}.loopOver", "loopOver should have atleast one task"))
    elif any(t.get("type") == TaskType.DO_WHILE for t in walk(body)):
        errors.append(
            ValidationError(f"{where}.loopOver", "a DO_WHILE inside a DO_WHILE is not supported")
        )
    if task.get("items") is not None or "_items" in (task.get("inputParameters") or {}):
        errors.append(
            ValidationError(
                f"{where}.items", "DO_WHILE over items is not supported by this server yet"
            )
        )
    return errors


def event(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    sink = task.get("sink")
    if _is_blank(sink):
        errors.append(ValidationError(f"{where}.sink", "sink is required for EVENT tasks"))
    elif "${" not in str(sink) and event_queue(sink, "w", "r") is None:
        errors.append(
            ValidationError(
                f"{where}.sink",
                f"sink {sink} is not supported by this server: only 'conductor' and "
                "'conductor:<queue>' are",
                sink,
            )
        )
    return errors


def sub_workflow(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    params = task.get("subWorkflowParam")
    if not isinstance(params, dict) or (
        _is_blank(params.get("name")) and not params.get("workflowDefinition")
    ):
        errors.append(
            ValidationError(
                f"{where}.subWorkflowParam",
                "subWorkflowParam with a name (or a workflowDefinition) is required",
            )
        )
    return errors


def dynamic(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    if _is_blank(task.get("dynamicTaskNameParam")):
        errors.append(
            ValidationError(
                f"{where}.dynamicTaskNameParam", "dynamicTaskNameParam is required for DYNAMIC"
            )
        )
    return errors


def jq(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    query = (task.get("inputParameters") or {}).get("queryExpression")
    if not isinstance(query, str) or not query.strip():
        errors.append(
            ValidationError(
                f"{where}.inputParameters.queryExpression",
                "queryExpression is required for JSON_JQ_TRANSFORM",
            )
        )
    return errors


def http(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    params = task.get("inputParameters") or {}
    request = params.get("http_request")
    task_def = task.get("taskDefinition") or {}
    templated = isinstance(task_def, dict) and "http_request" in (
        task_def.get("inputTemplate") or {}
    )
    if not (
        isinstance(request, (dict, str))
        or (params.get("uri") and params.get("method"))
        or templated
    ):
        errors.append(
            ValidationError(
                f"{where}.inputParameters.http_request",
                "HTTP task needs inputParameters.http_request (with uri and method)",
            )
        )
    return errors


def decision(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    if task.get("caseExpression") is not None:
        if _is_blank(task.get("caseExpression")):
            errors.append(
                ValidationError(f"{where}.caseExpression", "caseExpression cannot be empty")
            )
    elif _is_blank(task.get("caseValueParam")):
        errors.append(
            ValidationError(
                f"{where}.caseValueParam",
                "caseValueParam or caseExpression is required for DECISION",
            )
        )
    return errors


def dynamic_fork(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    params = task.get("inputParameters") or {}
    simple = "forkTaskInputs" in params
    listed = bool(task.get("dynamicForkTasksParam")) and bool(
        task.get("dynamicForkTasksInputParamName")
    )
    legacy = bool(task.get("dynamicForkJoinTasksParam"))
    if simple + listed + legacy != 1:
        errors.append(
            ValidationError(
                f"{where}.dynamicForkTasksParam",
                "FORK_JOIN_DYNAMIC needs exactly one of: inputParameters.forkTaskInputs, "
                "dynamicForkTasksParam with dynamicForkTasksInputParamName, "
                "or dynamicForkJoinTasksParam",
            )
        )
    return errors


def fork(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    forks = task.get("forkTasks")
    if not isinstance(forks, list) or not forks or not all(isinstance(f, list) for f in forks):
        errors.append(
            ValidationError(f"{where}.forkTasks", "forkTasks should have atleast one task")
        )
    return errors


def join(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    join_on = task.get("joinOn")
    if join_on is not None and (
        not isinstance(join_on, list) or not all(isinstance(r, str) for r in join_on)
    ):
        errors.append(
            ValidationError(f"{where}.joinOn", "joinOn must be a list of task references")
        )
    return errors


def terminate(task: dict[str, Any], where: str) -> list[ValidationError]:
    errors: list[ValidationError] = []
    if task.get("optional"):
        errors.append(ValidationError(f"{where}.optional", "TERMINATE task cannot be optional"))
    status = (task.get("inputParameters") or {}).get("terminationStatus")
    if not (isinstance(status, str) and (status in TERMINATION_STATUSES or "${" in status)):
        errors.append(
            ValidationError(
                f"{where}.inputParameters.terminationStatus",
                f"terminationStatus should be one of {', '.join(TERMINATION_STATUSES)}",
                status,
            )
        )
    return errors


def wait(task: dict[str, Any], where: str) -> list[ValidationError]:
    params = task.get("inputParameters") or {}
    duration, until = params.get("duration"), params.get("until")
    if duration not in (None, "") and until not in (None, ""):
        return [
            ValidationError(
                f"{where}.inputParameters",
                "Both 'duration' and 'until' specified. Please provide only one input",
            )
        ]
    for key, value in (("duration", duration), ("until", until)):
        if isinstance(value, str) and value and "${" not in value:
            try:
                if key == "duration":
                    waits.duration_ms(value)
                else:
                    waits.until_ms(value)
            except waits.WaitError as exc:
                return [ValidationError(f"{where}.inputParameters.{key}", str(exc), value)]
    return []


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
