"""Search result shapes: Conductor's WorkflowSummary and TaskSummary, built from stored rows.

Times are ISO-8601 UTC strings and input/output are Java `Map.toString()` text (`{k=v}`), as
Conductor's summaries are (conductor-spec §2.8).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from conductor.engine.model import JSON, WorkflowState
from conductor.engine.templates import java_string
from conductor.store.rows import workflow_body


def iso_time(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}Z"


def workflow_summary_of(state: WorkflowState) -> JSON:
    """The summary of a loaded run (for the status listener's webhook)."""
    return workflow_summary(
        {
            "name": state.name,
            "version": state.version,
            "workflow_id": state.workflow_id,
            "correlation_id": state.correlation_id,
            "create_time": state.create_time,
            "update_time": state.update_time,
            "end_time": state.end_time,
            "status": state.status.value,
            "priority": state.priority,
            "parent_workflow_id": state.parent_workflow_id,
            "body": workflow_body(state),
        }
    )


class Row(Protocol):
    """A stored row: an asyncpg Record, or a dict with the same keys."""

    def __getitem__(self, key: str) -> Any: ...


def workflow_summary(row: Row) -> JSON:
    body: JSON = row["body"]
    end = int(row["end_time"] or 0)
    start = int(row["create_time"])
    summary: dict[str, Any] = {
        "workflowType": row["name"],
        "version": row["version"],
        "workflowId": row["workflow_id"],
        "correlationId": row["correlation_id"],
        "startTime": iso_time(start),
        "updateTime": iso_time(int(row["update_time"])),
        "status": row["status"],
        "input": java_string(body.get("input") or {}),
        "output": java_string(body.get("output") or {}),
        "reasonForIncompletion": body.get("reasonForIncompletion"),
        "executionTime": end - start if end > 0 else 0,
        "event": "",
        "failedReferenceTaskNames": ",".join(body.get("failedReferenceTaskNames") or []),
        "failedTaskNames": list(body.get("failedTaskNames") or []),
        "priority": row["priority"],
        "createdBy": body.get("createdBy"),
        "taskToDomain": body.get("taskToDomain") or {},
        "idempotencyKey": body.get("idempotencyKey"),
        "parentWorkflowId": row["parent_workflow_id"] or "",
    }
    if end > 0:
        summary["endTime"] = iso_time(end)
    return {k: v for k, v in summary.items() if v is not None}


def task_summary(row: Row) -> JSON:
    body: JSON = row["body"]
    scheduled = int(row["scheduled_time"] or 0)
    start = int(row["start_time"] or 0)
    end = int(row["end_time"] or 0)
    summary: dict[str, Any] = {
        "workflowId": row["workflow_id"],
        "workflowType": body.get("workflowType"),
        "correlationId": body.get("correlationId"),
        "scheduledTime": iso_time(scheduled),
        "startTime": iso_time(start),
        "updateTime": iso_time(int(row["update_time"] or 0)),
        "endTime": iso_time(end),
        "status": row["status"],
        "reasonForIncompletion": body.get("reasonForIncompletion"),
        "executionTime": end - start if end > 0 and start > 0 else 0,
        "queueWaitTime": start - scheduled if start > 0 else 0,
        "taskDefName": body.get("taskDefName", row["task_type"]),
        "taskType": row["task_type"],
        "input": java_string(body.get("inputData") or {}),
        "output": java_string(body.get("outputData") or {}),
        "taskId": row["task_id"],
        "workflowPriority": int(body.get("workflowPriority") or 0),
        "domain": body.get("domain"),
    }
    return {k: v for k, v in summary.items() if v is not None}
