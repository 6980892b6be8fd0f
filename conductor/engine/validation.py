"""Definition validation with Conductor's rules; each problem names the field it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conductor.engine.definitions import SYSTEM_TASK_TYPES, children, walk
from conductor.engine.model import RetryLogic, TimeoutPolicy
from conductor.engine.system_tasks import (
    SCRIPT_EVALUATORS,
    SUPPORTED_TYPES,
    TERMINATION_STATUSES,
    event_queue,
)
from conductor.engine.templates import references

# System task types this build executes. Others are refused at definition time, not at run time.
SUPPORTED_SYSTEM_TYPES: frozenset[str] = SUPPORTED_TYPES
SUPPORTED_SWITCH_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}
INLINE_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}
_WF_TIMEOUT_POLICIES = {"TIME_OUT_WF", "ALERT_ONLY"}


@dataclass(frozen=True)
class ValidationError:
    path: str
    message: str
    invalid_value: Any = None


def _is_blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _non_negative_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def validate_task_def(task_def: Any, path: str = "taskDef") -> list[ValidationError]:
    if not isinstance(task_def, dict):
        return [ValidationError(path, "TaskDef must be a JSON object")]
    errors: list[ValidationError] = []
    if _is_blank(task_def.get("name")):
        errors.append(ValidationError(f"{path}.name", "TaskDef name cannot be null or empty"))
    for key in (
        "retryCount",
        "retryDelaySeconds",
        "pollTimeoutSeconds",
        "timeoutSeconds",
        "totalTimeoutSeconds",
        "maxRetryDelaySeconds",
        "backoffJitterMs",
        "rateLimitPerFrequency",
        "rateLimitFrequencyInSeconds",
        "concurrentExecLimit",
    ):
        if not _non_negative_int(task_def.get(key)):
            errors.append(
                ValidationError(
                    f"{path}.{key}", f"{key} must be a non-negative integer", task_def.get(key)
                )
            )
    response = task_def.get("responseTimeoutSeconds")
    if response is not None and (not _non_negative_int(response) or response < 1):
        errors.append(
            ValidationError(
                f"{path}.responseTimeoutSeconds",
                "TaskDef responseTimeoutSeconds: must be greater than 0",
                response,
            )
        )
    scale = task_def.get("backoffScaleFactor")
    if scale is not None and (not _non_negative_int(scale) or scale < 1):
        errors.append(
            ValidationError(
                f"{path}.backoffScaleFactor", "backoffScaleFactor must be at least 1", scale
            )
        )
    errors.extend(_enum_errors(task_def, path, "retryLogic", {e.value for e in RetryLogic}))
    errors.extend(_enum_errors(task_def, path, "timeoutPolicy", {e.value for e in TimeoutPolicy}))
    if errors:
        return errors
    timeout = int(task_def.get("timeoutSeconds") or 0)
    response_s = int(response if response is not None else 3600)
    if timeout > 0 and response_s > timeout:
        errors.append(
            ValidationError(
                f"{path}.responseTimeoutSeconds",
                f"TaskDef: {task_def.get('name')} responseTimeoutSeconds: {response_s} must be "
                f"less than timeoutSeconds: {timeout}",
                response_s,
            )
        )
    total = int(task_def.get("totalTimeoutSeconds") or 0)
    if timeout > 0 and total > 0 and timeout > total:
        errors.append(
            ValidationError(
                f"{path}.timeoutSeconds",
                f"TaskDef: {task_def.get('name')} timeoutSeconds: {timeout} must be less than "
                f"totalTimeoutSeconds: {total}",
                timeout,
            )
        )
    return errors


def _enum_errors(
    obj: dict[str, Any], path: str, key: str, allowed: set[str]
) -> list[ValidationError]:
    value = obj.get(key)
    if value is None or value in allowed:
        return []
    return [
        ValidationError(
            f"{path}.{key}", f"{key} must be one of {', '.join(sorted(allowed))}", value
        )
    ]


def validate_workflow_def(definition: Any, path: str = "workflowDef") -> list[ValidationError]:
    if not isinstance(definition, dict):
        return [ValidationError(path, "WorkflowDef must be a JSON object")]
    errors: list[ValidationError] = []
    if _is_blank(definition.get("name")):
        errors.append(ValidationError(f"{path}.name", "WorkflowDef name cannot be null or empty"))
    version = definition.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        errors.append(ValidationError(f"{path}.version", "version must be an integer", version))
    schema = definition.get("schemaVersion")
    if schema is not None and schema != 2:
        errors.append(
            ValidationError(
                f"{path}.schemaVersion", "workflowDef schemaVersion: 2 is only supported", schema
            )
        )
    if not _non_negative_int(definition.get("timeoutSeconds")):
        errors.append(
            ValidationError(
                f"{path}.timeoutSeconds", "timeoutSeconds must be a non-negative integer"
            )
        )
    errors.extend(_enum_errors(definition, path, "timeoutPolicy", _WF_TIMEOUT_POLICIES))
    for key in ("outputParameters", "variables", "inputTemplate"):
        if definition.get(key) is not None and not isinstance(definition.get(key), dict):
            errors.append(ValidationError(f"{path}.{key}", f"{key} must be a JSON object"))
    tasks = definition.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        errors.append(ValidationError(f"{path}.tasks", "WorkflowTask list cannot be empty"))
        return errors
    errors.extend(_validate_tasks(definition, tasks, path))
    return errors


def _validate_tasks(
    definition: dict[str, Any], tasks: list[Any], path: str
) -> list[ValidationError]:
    errors: list[ValidationError] = []
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            errors.append(
                ValidationError(f"{path}.tasks[{i}]", "WorkflowTask must be a JSON object")
            )
    if errors:
        return errors
    for task in walk(tasks):
        ref = task.get("taskReferenceName")
        where = f"{path}.tasks[{ref or task.get('name')}]"
        if _is_blank(task.get("name")):
            errors.append(
                ValidationError(f"{where}.name", "WorkflowTask name cannot be empty or null")
            )
        if _is_blank(ref):
            errors.append(
                ValidationError(
                    f"{where}.taskReferenceName",
                    "WorkflowTask taskReferenceName name cannot be empty or null",
                )
            )
        elif ref in seen:
            errors.append(
                ValidationError(
                    f"{where}.taskReferenceName",
                    f"taskReferenceName: {ref} should be unique across tasks for a given "
                    f"workflowDefinition: {definition.get('name')}",
                    ref,
                )
            )
        else:
            seen.add(str(ref))
        kind = task.get("type", "SIMPLE")
        if not isinstance(kind, str) or not kind:
            errors.append(ValidationError(f"{where}.type", "type must be a non-empty string", kind))
        elif kind in SYSTEM_TASK_TYPES and kind not in SUPPORTED_SYSTEM_TYPES:
            errors.append(
                ValidationError(
                    f"{where}.type", f"task type {kind} is not supported by this server yet", kind
                )
            )
        if not _non_negative_int(task.get("startDelay")):
            errors.append(ValidationError(f"{where}.startDelay", "startDelay must be >= 0"))
        if task.get("inputParameters") is not None and not isinstance(
            task.get("inputParameters"), dict
        ):
            errors.append(
                ValidationError(f"{where}.inputParameters", "inputParameters must be a JSON object")
            )
        retry = task.get("retryCount")
        if retry is not None and not _non_negative_int(retry):
            errors.append(ValidationError(f"{where}.retryCount", "retryCount must be >= 0", retry))
        inline_def = task.get("taskDefinition")
        if inline_def is not None:
            errors.extend(validate_task_def(inline_def, f"{where}.taskDefinition"))
        if isinstance(kind, str):
            errors.extend(_validate_type_rules(task, kind, where))
    if not errors:
        errors.extend(_validate_references(definition, tasks, seen, path))
        errors.extend(_validate_forks_and_joins(tasks, seen, path))
    return errors


def _validate_type_rules(task: dict[str, Any], kind: str, where: str) -> list[ValidationError]:
    """What each system task type needs on its WorkflowTask (conductor-spec §1.1, §5)."""
    errors: list[ValidationError] = []
    if kind in ("SWITCH", "DECISION"):
        cases = task.get("decisionCases")
        if not isinstance(cases, dict) or not cases:
            errors.append(
                ValidationError(
                    f"{where}.decisionCases",
                    f"decisionCases should have atleast one task for {kind}",
                )
            )
        elif not all(isinstance(branch, list) for branch in cases.values()):
            errors.append(
                ValidationError(
                    f"{where}.decisionCases", "each decision case must be a list of tasks"
                )
            )
        default = task.get("defaultCase")
        if default is not None and not isinstance(default, list):
            errors.append(
                ValidationError(f"{where}.defaultCase", "defaultCase must be a list of tasks")
            )
    if kind == "SWITCH":
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
            errors.append(
                ValidationError(f"{where}.expression", "expression is required for SWITCH")
            )
    if kind == "INLINE":
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
    if kind == "DO_WHILE":
        if _is_blank(task.get("loopCondition")):
            errors.append(
                ValidationError(f"{where}.loopCondition", "loopCondition is required for DO_WHILE")
            )
        body = task.get("loopOver")
        if not isinstance(body, list) or not body:
            errors.append(
                ValidationError(f"{where}.loopOver", "loopOver should have atleast one task")
            )
        elif any(t.get("type") == "DO_WHILE" for t in walk(body)):
            errors.append(
                ValidationError(
                    f"{where}.loopOver", "a DO_WHILE inside a DO_WHILE is not supported"
                )
            )
        if task.get("items") is not None or "_items" in (task.get("inputParameters") or {}):
            errors.append(
                ValidationError(
                    f"{where}.items", "DO_WHILE over items is not supported by this server yet"
                )
            )
    if kind == "EVENT":
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
    if kind == "SUB_WORKFLOW":
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
    if kind == "DYNAMIC" and _is_blank(task.get("dynamicTaskNameParam")):
        errors.append(
            ValidationError(
                f"{where}.dynamicTaskNameParam", "dynamicTaskNameParam is required for DYNAMIC"
            )
        )
    if kind == "JSON_JQ_TRANSFORM":
        query = (task.get("inputParameters") or {}).get("queryExpression")
        if not isinstance(query, str) or not query.strip():
            errors.append(
                ValidationError(
                    f"{where}.inputParameters.queryExpression",
                    "queryExpression is required for JSON_JQ_TRANSFORM",
                )
            )
    if kind == "HTTP":
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
    if kind == "DECISION":
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
    if kind == "FORK_JOIN_DYNAMIC":
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
    if kind == "FORK_JOIN":
        forks = task.get("forkTasks")
        if not isinstance(forks, list) or not forks or not all(isinstance(f, list) for f in forks):
            errors.append(
                ValidationError(f"{where}.forkTasks", "forkTasks should have atleast one task")
            )
    if kind == "JOIN":
        join_on = task.get("joinOn")
        if join_on is not None and (
            not isinstance(join_on, list) or not all(isinstance(r, str) for r in join_on)
        ):
            errors.append(
                ValidationError(f"{where}.joinOn", "joinOn must be a list of task references")
            )
    if kind == "TERMINATE":
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


def _validate_forks_and_joins(
    tasks: list[dict[str, Any]], refs: set[str], path: str
) -> list[ValidationError]:
    """A FORK_JOIN must be followed by a JOIN; a JOIN may only wait on tasks of this definition."""
    errors: list[ValidationError] = []
    lists: list[list[Any]] = [tasks]
    while lists:
        siblings = lists.pop()
        for i, task in enumerate(siblings):
            if not isinstance(task, dict):
                continue
            lists.extend(children(task))
            where = f"{path}.tasks[{task.get('taskReferenceName')}]"
            if task.get("type") in ("FORK_JOIN", "FORK_JOIN_DYNAMIC"):
                following = siblings[i + 1] if i + 1 < len(siblings) else None
                if not isinstance(following, dict) or following.get("type") != "JOIN":
                    errors.append(
                        ValidationError(
                            where,
                            "Fork task definition is not followed by a join task.  "
                            "Check the blueprint",
                        )
                    )
            if task.get("type") in ("JOIN", "EXCLUSIVE_JOIN"):
                for ref in task.get("joinOn") or []:
                    if ref not in refs:
                        errors.append(
                            ValidationError(
                                f"{where}.joinOn", f"joinOn references an unknown task: {ref}", ref
                            )
                        )
    return errors


def _validate_references(
    definition: dict[str, Any], tasks: list[dict[str, Any]], refs: set[str], path: str
) -> list[ValidationError]:
    """Top-level inputs may only point at `workflow` or a task reference of this definition."""
    errors: list[ValidationError] = []
    for task in tasks:
        for expression in references(task.get("inputParameters") or {}):
            head = expression.strip().split(".")[0].split("[")[0]
            if not head or head == "workflow" or head in refs or head.isupper() or "${" in head:
                continue
            errors.append(
                ValidationError(
                    f"{path}.tasks[{task.get('taskReferenceName')}].inputParameters",
                    f"taskReferenceName: {head} for given task: {task.get('name')} input value: "
                    f"${{{expression}}} is not defined in workflow definition.",
                    expression,
                )
            )
    return errors


def scripts_of(definition: dict[str, Any], path: str = "workflowDef") -> list[tuple[str, str]]:
    """(field path, JavaScript source) of every script in a definition, for a syntax check."""
    found: list[tuple[str, str]] = []
    for task in walk(definition.get("tasks") or []):
        where = f"{path}.tasks[{task.get('taskReferenceName')}]"
        kind = task.get("type")
        if kind == "SWITCH" and task.get("evaluatorType") in SCRIPT_EVALUATORS:
            found.append((f"{where}.expression", str(task.get("expression") or "")))
        elif kind == "DO_WHILE" and isinstance(task.get("loopCondition"), str):
            found.append((f"{where}.loopCondition", task["loopCondition"]))
        elif kind == "DECISION" and isinstance(task.get("caseExpression"), str):
            found.append((f"{where}.caseExpression", task["caseExpression"]))
        elif kind == "INLINE":
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
        if task.get("type") != "JSON_JQ_TRANSFORM":
            continue
        query = (task.get("inputParameters") or {}).get("queryExpression")
        if isinstance(query, str) and "${" not in query:
            where = f"{path}.tasks[{task.get('taskReferenceName')}].inputParameters.queryExpression"
            found.append((where, query))
    return found
