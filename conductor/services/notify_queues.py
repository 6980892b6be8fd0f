"""Conductor's default event queues: one per task status (COMPLETED, FAILED) that completes or
fails a waiting task named in the message (`/api/queue/update/...`, QueueAdminResource).

A publish writes a message to the `event_message` outbox; the event processor takes it like any
other message and applies it here. The message carries an `externalId` (a JSON string with the
workflow id and a task id or reference name) and the output to merge into the task's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from conductor.engine.model import JSON, TaskStatus

QUEUES = {
    TaskStatus.COMPLETED: "conductor_notify_COMPLETED",
    TaskStatus.FAILED: "conductor_notify_FAILED",
}
STATUS_OF_QUEUE = {queue: status for status, queue in QUEUES.items()}


def message(
    workflow_id: str, task_id: str | None, ref_name: str | None, output: JSON
) -> tuple[str, JSON]:
    """(message id, payload) for a publish: the output plus the externalId naming the task."""
    external: dict[str, str] = {"workflowId": workflow_id}
    if task_id is not None:
        external["taskId"] = task_id
    if ref_name is not None:
        external["taskRefName"] = ref_name
    return str(uuid.uuid4()), {**output, "externalId": json.dumps(external)}


def target(payload: JSON) -> tuple[str, str | None, str | None] | None:
    """(workflow id, task id, reference name) named by a message's externalId; None for a
    malformed message, which is dropped as Conductor drops it."""
    raw = payload.get("externalId")
    try:
        external: Any = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(external, dict):
        return None
    workflow_id = external.get("workflowId")
    if not isinstance(workflow_id, str) or not workflow_id:
        return None
    task_id, ref = external.get("taskId"), external.get("taskRefName")
    return (
        workflow_id,
        task_id if isinstance(task_id, str) and task_id else None,
        ref if isinstance(ref, str) and ref else None,
    )
