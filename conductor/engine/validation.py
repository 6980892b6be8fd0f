"""Definition validation with Conductor's rules; each problem names the field it is about."""

from __future__ import annotations

from typing import Any

from conductor.engine.model import RetryLogic, TaskType, TimeoutPolicy
from conductor.engine.problems import ValidationError
from conductor.engine.problems import is_blank as _is_blank
from conductor.engine.problems import non_negative_int as _non_negative_int
from conductor.engine.task_rules import jq_queries_of, scripts_of
from conductor.engine.task_tree import walk
from conductor.engine.task_types import TASK_TYPES
from conductor.engine.templates import references

_WF_TIMEOUT_POLICIES = {"TIME_OUT_WF", "ALERT_ONLY"}

__all__ = [
    "TASK_DEF_COUNTS",
    "TASK_DEF_INTEGERS",
    "ValidationError",
    "jq_queries_of",
    "scripts_of",
    "validate_task_def",
    "validate_workflow_def",
]


TASK_DEF_COUNTS = (
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
)
# Every integer field of a TaskDef: the counts, and two that may be 0 or less.
TASK_DEF_INTEGERS = (*TASK_DEF_COUNTS, "responseTimeoutSeconds", "backoffScaleFactor")


def validate_task_def(
    task_def: Any, path: str = "taskDef", *, inline: bool = False
) -> list[ValidationError]:
    """A TaskDef's problems. `inline`: a WorkflowTask's own `taskDefinition`, which Conductor
    does not validate (it is not @Valid there): it needs no name (the task is named by its
    WorkflowTask) and only its field types are checked, as Conductor's JSON reader does."""
    if not isinstance(task_def, dict):
        return [ValidationError(path, "TaskDef must be a JSON object")]
    errors: list[ValidationError] = []
    if not inline and _is_blank(task_def.get("name")):
        errors.append(ValidationError(f"{path}.name", "TaskDef name cannot be null or empty"))
    if inline:
        for key in TASK_DEF_INTEGERS:
            if not _int_or_none(task_def.get(key)):
                errors.append(
                    ValidationError(f"{path}.{key}", f"{key} must be an integer", task_def.get(key))
                )
    for key in () if inline else TASK_DEF_COUNTS:
        if not _non_negative_int(task_def.get(key)):
            errors.append(
                ValidationError(
                    f"{path}.{key}", f"{key} must be a non-negative integer", task_def.get(key)
                )
            )
    response = task_def.get("responseTimeoutSeconds")
    if not inline and response is not None and (not _non_negative_int(response) or response < 1):
        errors.append(
            ValidationError(
                f"{path}.responseTimeoutSeconds",
                "TaskDef responseTimeoutSeconds: must be greater than 0",
                response,
            )
        )
    scale = task_def.get("backoffScaleFactor")
    if not inline and scale is not None and (not _non_negative_int(scale) or scale < 1):
        errors.append(
            ValidationError(
                f"{path}.backoffScaleFactor", "backoffScaleFactor must be at least 1", scale
            )
        )
    errors.extend(_enum_errors(task_def, path, "retryLogic", {e.value for e in RetryLogic}))
    errors.extend(_enum_errors(task_def, path, "timeoutPolicy", {e.value for e in TimeoutPolicy}))
    if errors or inline:
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


def _int_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


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
    # Conductor puts no bound on it: zero or below means no workflow timeout.
    if not _int_or_none(definition.get("timeoutSeconds")):
        errors.append(
            ValidationError(f"{path}.timeoutSeconds", "timeoutSeconds must be an integer")
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
        errors.extend(_task_problems(definition, task, seen, path))
    if not errors:
        errors.extend(_validate_references(definition, tasks, seen, path))
    return errors


def _task_problems(
    definition: dict[str, Any], task: dict[str, Any], seen: set[str], path: str
) -> list[ValidationError]:
    """One WorkflowTask's problems (its reference is added to `seen`, to find repeats)."""
    errors: list[ValidationError] = []
    ref = task.get("taskReferenceName")
    where = f"{path}.tasks[{ref or task.get('name')}]"
    if _is_blank(task.get("name")):
        errors.append(ValidationError(f"{where}.name", "WorkflowTask name cannot be empty or null"))
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
    kind = task.get("type", TaskType.SIMPLE.value)
    if not isinstance(kind, str) or not kind:
        errors.append(ValidationError(f"{where}.type", "type must be a non-empty string", kind))
    elif kind in TASK_TYPES and not TASK_TYPES[kind].supported:
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
    retry = task.get("retryCount")  # Conductor puts no bound on it: below 0 means no retries
    if not _int_or_none(retry):
        message = "retryCount must be an integer"
        errors.append(ValidationError(f"{where}.retryCount", message, retry))
    inline_def = task.get("taskDefinition")
    if inline_def is not None:
        errors.extend(validate_task_def(inline_def, f"{where}.taskDefinition", inline=True))
    spec = TASK_TYPES.get(kind) if isinstance(kind, str) else None
    if spec is not None and spec.supported:  # what the type needs (engine/task_types.py)
        errors.extend(error for rule in spec.rules for error in rule(task, where))
    return errors


def _validate_references(
    definition: dict[str, Any], tasks: list[dict[str, Any]], refs: set[str], path: str
) -> list[ValidationError]:
    """Top-level inputs may only point at `workflow` or a task reference of this definition."""
    errors: list[ValidationError] = []
    for task in tasks:
        for key, value in (task.get("inputParameters") or {}).items():
            for expression in references(value):
                head = expression.strip().split(".")[0].split("[")[0]
                if not head or head == "workflow" or head in refs or head.isupper():
                    continue
                if "${" in head:
                    continue
                errors.append(
                    ValidationError(
                        f"{path}.tasks[{task.get('taskReferenceName')}].inputParameters",
                        f"taskReferenceName: {head} for given task: {task.get('name')} input "
                        f"value: {key} of input parameter: ${{{expression}}} is not defined in "
                        "workflow definition.",
                        expression,
                    )
                )
    return errors
