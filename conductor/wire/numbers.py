"""Integer fields of definitions given as numeric strings or whole floats, read as Jackson does.

Conductor's Jackson reader coerces `"retryCount": "3"` and `"timeoutSeconds": 60.0` to
integers, so clients (and hand-written JSON) send them; the checks after this would refuse
them. Definitions are rewritten here, before they are checked or stored, so nothing past the
edge sees a string where a count belongs. Anything else is left for the checks to report.
"""

from __future__ import annotations

import re
from typing import Any

from conductor.engine.validation import TASK_DEF_INTEGERS

_INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*")

WORKFLOW_DEF_INTEGERS = ("version", "schemaVersion", "timeoutSeconds")
WORKFLOW_TASK_INTEGERS = ("startDelay", "retryCount")
START_REQUEST_INTEGERS = ("version", "priority")
# Where a WorkflowTask holds more WorkflowTasks.
_TASK_LISTS = ("loopOver", "defaultCase")


def _as_integer(value: Any) -> Any:
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _coerce(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in obj:
            obj[key] = _as_integer(obj[key])


def task_def(body: Any) -> Any:
    """A TaskDef with its integer fields read as integers (in place; returned for chaining)."""
    if isinstance(body, dict):
        _coerce(body, TASK_DEF_INTEGERS)
    return body


def workflow_def(body: Any) -> Any:
    """A WorkflowDef, its tasks at every depth and their inline task definitions, likewise."""
    if isinstance(body, dict):
        _coerce(body, WORKFLOW_DEF_INTEGERS)
        _tasks(body.get("tasks"))
    return body


def start_request(body: Any) -> Any:
    """A StartWorkflowRequest, with its inline workflowDef, likewise."""
    if isinstance(body, dict):
        _coerce(body, START_REQUEST_INTEGERS)
        workflow_def(body.get("workflowDef"))
    return body


def _tasks(tasks: Any) -> None:
    if not isinstance(tasks, list):
        return
    for task in tasks:
        if not isinstance(task, dict):
            continue
        _coerce(task, WORKFLOW_TASK_INTEGERS)
        task_def(task.get("taskDefinition"))
        for key in _TASK_LISTS:
            _tasks(task.get(key))
        for branch in task.get("forkTasks") or []:
            _tasks(branch)
        cases = task.get("decisionCases")
        if isinstance(cases, dict):
            for case in cases.values():
                _tasks(case)
