"""Search result shapes: Conductor's WorkflowSummary and TaskSummary, built from engine values.

Times are ISO-8601 UTC strings and input/output are Java `Map.toString()` text (`{k=v}`), as
Conductor's summaries are (conductor-spec §2.8).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conductor.engine.model import JSON, WorkflowState
from conductor.engine.templates import java_string
from conductor.store.values import StoredTask


def iso_time(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}Z"


def workflow_summary(state: WorkflowState) -> JSON:
    end = state.end_time
    start = state.create_time
    summary: dict[str, Any] = {
        "workflowType": state.name,
        "version": state.version,
        "workflowId": state.workflow_id,
        "correlationId": state.correlation_id,
        "startTime": iso_time(start),
        "updateTime": iso_time(state.update_time),
        "status": state.status.value,
        "input": java_string(state.input),
        "output": java_string(state.output),
        "reasonForIncompletion": state.reason_for_incompletion,
        "executionTime": end - start if end > 0 else 0,
        "event": "",
        "failedReferenceTaskNames": ",".join(state.failed_reference_task_names),
        "failedTaskNames": list(state.failed_task_names),
        "priority": state.priority,
        "createdBy": state.created_by,
        "taskToDomain": state.task_to_domain,
        "idempotencyKey": state.idempotency_key,
        "parentWorkflowId": state.parent_workflow_id or "",
    }
    if end > 0:
        summary["endTime"] = iso_time(end)
    return {k: v for k, v in summary.items() if v is not None}


def task_summary(stored: StoredTask) -> JSON:
    task = stored.task
    scheduled, start, end = task.scheduled_time, task.start_time, task.end_time
    summary: dict[str, Any] = {
        "workflowId": task.workflow_id,
        "workflowType": stored.workflow_type,
        "correlationId": stored.correlation_id,
        "scheduledTime": iso_time(scheduled),
        "startTime": iso_time(start),
        "updateTime": iso_time(task.update_time),
        "endTime": iso_time(end),
        "status": task.status.value,
        "reasonForIncompletion": task.reason_for_incompletion,
        "executionTime": end - start if end > 0 and start > 0 else 0,
        "queueWaitTime": start - scheduled if start > 0 else 0,
        "taskDefName": task.task_def_name,
        "taskType": task.task_type,
        "input": java_string(task.input_data),
        "output": java_string(task.output_data),
        "taskId": task.task_id,
        "workflowPriority": stored.workflow_priority,
        "domain": task.domain,
    }
    return {k: v for k, v in summary.items() if v is not None}
