"""Payload caps: Conductor's max{WorkflowInput,TaskOutput}PayloadSizeThreshold.

A payload's size is the length of its compact JSON encoding, as Conductor counts the bytes Jackson
writes. A workflow input over the cap is refused before anything is written; a task result whose
output is over the cap fails its task with a terminal error and an empty output, Conductor's
words as the reason, and the workflow goes on as after any other terminal failure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import TaskStatus


def json_size(value: Any) -> int | None:
    """Bytes of `value` as compact JSON; None when it is not JSON (the store then refuses it)."""
    try:
        return len(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return None


def workflow_input_problem(workflow_input: Any, workflow_id: str, limit: int) -> str | None:
    """Conductor's message when a workflow input is over `limit` bytes; None when it fits."""
    size = json_size(workflow_input)
    if size is None or size <= limit:
        return None
    return (
        f"The payload size: {size} of workflow: {workflow_id} "
        f"is greater than the permissible limit: {limit} bytes"
    )


def limit_task_output(
    result: TaskResultReceived, workflow_id: str, limit: int
) -> TaskResultReceived:
    """`result`, or when its output is over `limit` bytes the terminal failure Conductor records
    instead (its failTask: status, reason, output emptied)."""
    if not result.output or result.extend_lease:
        return result
    size = json_size(result.output)
    if size is None or size <= limit:
        return result
    # Two spaces before "is": Conductor's format string has them.
    reason = (
        f"The payload size: {size} of task: {result.task_id} in workflow: {workflow_id}  "
        f"is greater than the permissible limit: {limit} bytes"
    )
    return replace(result, status=TaskStatus.FAILED_WITH_TERMINAL_ERROR, output={}, reason=reason)
