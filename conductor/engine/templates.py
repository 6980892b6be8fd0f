"""Conductor's `${...}` parameter templates, resolved against a workflow's state.

Rules (conductor-spec §6): a string that is exactly one expression keeps the value's type; inside a
longer string each expression is replaced by its Java-style string form (`null` when missing);
`$${` escapes an expression; paths are JSONPath evaluated against a document holding `workflow`
and one entry per task reference name (the latest attempt wins).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath_parse

from conductor.engine.model import JSON, TaskState, WorkflowState, base_ref

_SIMPLE_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_$][\w$-]*|\[\d+\])*$")
_SIMPLE_STEP = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]")
_MISSING = object()


def build_document(state: WorkflowState) -> JSON:
    """The JSON document `${...}` paths are evaluated against."""
    doc: JSON = {
        "workflow": {
            "input": state.input,
            "output": state.output,
            "status": state.status.value,
            "workflowId": state.workflow_id,
            "parentWorkflowId": state.parent_workflow_id,
            "parentWorkflowTaskId": state.parent_workflow_task_id,
            "workflowType": state.name,
            "version": state.version,
            "correlationId": state.correlation_id,
            "reasonForIncompletion": state.reason_for_incompletion,
            "schemaVersion": state.definition.get("schemaVersion", 2),
            "variables": state.variables,
            "createTime": state.create_time,
            "priority": state.priority,
        }
    }
    for task in state.tasks:  # ordered by seq, so later attempts overwrite earlier ones
        doc[base_ref(task.ref_name)] = task_document(task)
    return doc


def task_document(task: TaskState) -> JSON:
    return {
        "input": task.input_data,
        "output": task.output_data,
        "taskType": task.task_type,
        "status": task.status.value,
        "referenceTaskName": task.ref_name,
        "retryCount": task.retry_count,
        "pollCount": task.poll_count,
        "taskDefName": task.task_def_name,
        "scheduledTime": task.scheduled_time,
        "startTime": task.start_time,
        "endTime": task.end_time,
        "taskId": task.task_id,
        "reasonForIncompletion": task.reason_for_incompletion,
        "callbackAfterSeconds": task.callback_after_seconds,
        "workerId": task.worker_id,
        "iteration": task.iteration,
    }


def resolve(value: Any, doc: JSON, task_id: str | None = None) -> Any:
    """Resolve every template in `value` (maps and lists at any depth); keys are never templated."""
    if isinstance(value, str):
        return _resolve_string(value, doc, task_id)
    if isinstance(value, dict):
        return {k: resolve(v, doc, task_id) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, doc, task_id) for v in value]
    return value


def resolve_task_input(
    input_parameters: JSON, input_template: JSON | None, doc: JSON, task_id: str | None
) -> JSON:
    """Task input: the TaskDef inputTemplate merged in (put-if-absent) before resolution."""
    params = dict(input_parameters)
    template = input_template or {}
    for key, default in template.items():
        params.setdefault(key, default)
    resolved = resolve(params, doc, task_id)
    for key, default in template.items():
        if resolved.get(key) is None:
            resolved[key] = default
    return dict(resolved)


def _find_expression_end(text: str, start: int) -> int:
    """Index of the `}` closing the `${` at `start`, honouring nested `${...}`; -1 if none."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split(text: str) -> list[tuple[bool, str]]:
    """Split into (is_expression, text) parts; `$${` stays literal."""
    parts: list[tuple[bool, str]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            buf.append("$${")
            i += 3
            continue
        if text.startswith("${", i):
            end = _find_expression_end(text, i)
            if end < 0:
                buf.append(text[i:])
                break
            if buf:
                parts.append((False, "".join(buf)))
                buf = []
            parts.append((True, text[i + 2 : end]))
            i = end + 1
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append((False, "".join(buf)))
    return parts


def _resolve_string(text: str, doc: JSON, task_id: str | None) -> Any:
    if "${" not in text:
        return text
    parts = _split(text)
    if len(parts) == 1 and parts[0][0]:
        return _evaluate(parts[0][1], doc, task_id)
    out: list[str] = []
    for is_expr, chunk in parts:
        if not is_expr:
            out.append(chunk.replace("$${", "${"))
            continue
        if chunk == "CPEWF_TASK_ID" and task_id is None:
            out.append("${CPEWF_TASK_ID}")
            continue
        out.append(java_string(_evaluate(chunk, doc, task_id)))
    return "".join(out)


def _evaluate(expression: str, doc: JSON, task_id: str | None) -> Any:
    if "${" in expression:  # nested template: resolve the path text first
        expression = java_string(_resolve_string(expression, doc, task_id))
    expression = expression.strip()
    if not expression:
        return ""
    if expression == "CPEWF_TASK_ID":
        return task_id if task_id is not None else "${CPEWF_TASK_ID}"
    if expression.endswith((".length()", ".size()")):  # Jayway's function on a list or string
        base = _evaluate(expression.rsplit(".", 1)[0], doc, task_id)
        return len(base) if isinstance(base, list | str | dict) else None
    if _SIMPLE_PATH.match(expression):
        value = _walk_simple(expression, doc)
        return None if value is _MISSING else value
    return _evaluate_jsonpath(expression, doc)


def _walk_simple(expression: str, doc: JSON) -> Any:
    head = re.match(r"^[A-Za-z_][\w-]*", expression)
    assert head is not None
    current: Any = doc.get(head.group(0), _MISSING)
    for match in _SIMPLE_STEP.finditer(expression, head.end()):
        if current is _MISSING or current is None:
            return _MISSING
        key, index = match.group(1), match.group(2)
        if key is not None:
            current = current.get(key, _MISSING) if isinstance(current, dict) else _MISSING
        elif isinstance(current, list):
            idx = int(index)
            current = current[idx] if idx < len(current) else _MISSING
        else:
            return _MISSING
    return current


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> Any:
    return jsonpath_parse(expression if expression.startswith("$") else "$." + expression)


def _evaluate_jsonpath(expression: str, doc: JSON) -> Any:
    try:
        matches = _compiled(expression).find(doc)
    except (JsonPathParserError, Exception):  # bad paths resolve to null, as in Conductor
        return None
    if not matches:
        return None
    if len(matches) == 1 and not _is_multi(expression):
        return matches[0].value
    return [m.value for m in matches]


def _is_multi(expression: str) -> bool:
    return "*" in expression or "?" in expression or ".." in expression or ":" in expression


def java_string(value: Any) -> str:
    """How Java's String.valueOf renders a JSON value inside an interpolated string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    return json.dumps(value) if not isinstance(value, int | float) else str(value)


def references(value: Any) -> list[str]:
    """Every `${...}` expression text inside a (nested) parameter value, for validation."""
    found: list[str] = []
    if isinstance(value, str):
        for is_expr, chunk in _split(value):
            if is_expr:
                found.append(chunk)
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(references(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(references(v))
    return found
