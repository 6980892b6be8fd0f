"""Engine values -> Conductor's JSON shapes (camelCase, epoch-ms times, nulls omitted)."""

from __future__ import annotations

from typing import Any

from conductor.engine.model import JSON, TaskState, TaskType, WorkflowState
from conductor.store.values import StoredTask


def _compact(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if v is not None}


def task_json(
    task: TaskState,
    workflow_type: str | None,
    correlation_id: str | None,
    workflow_priority: int,
) -> JSON:
    workflow_task = dict(task.workflow_task)
    workflow_task.setdefault("name", task.task_def_name)
    workflow_task.setdefault("taskReferenceName", task.ref_name)
    workflow_task.setdefault("type", TaskType.SIMPLE.value)
    task_def = workflow_task.get("taskDefinition")
    settings = task.settings
    rate = task_def.get("rateLimitPerFrequency") if isinstance(task_def, dict) else None
    freq = task_def.get("rateLimitFrequencyInSeconds") if isinstance(task_def, dict) else None
    queue_wait = task.start_time - task.scheduled_time if task.start_time else 0
    return _compact(
        {
            "taskType": task.task_type,
            "status": task.status.value,
            "inputData": task.input_data,
            "referenceTaskName": task.ref_name,
            "retryCount": task.retry_count,
            "seq": task.seq,
            "correlationId": correlation_id,
            "pollCount": task.poll_count,
            "taskDefName": task.task_def_name,
            "scheduledTime": task.scheduled_time,
            "startTime": task.start_time,
            "endTime": task.end_time,
            "updateTime": task.update_time,
            "startDelayInSeconds": task.start_delay_seconds,
            "retriedTaskId": task.retried_task_id,
            "retried": task.retried,
            "executed": task.executed,
            "callbackFromWorker": True,
            "responseTimeoutSeconds": settings.response_timeout_seconds,
            "workflowInstanceId": task.workflow_id,
            "workflowType": workflow_type,
            "taskId": task.task_id,
            "reasonForIncompletion": task.reason_for_incompletion,
            "callbackAfterSeconds": task.callback_after_seconds,
            "workerId": task.worker_id,
            "outputData": task.output_data,
            "workflowTask": workflow_task,
            "domain": task.domain,
            "rateLimitPerFrequency": int(rate or 0),
            "rateLimitFrequencyInSeconds": int(freq or 1),
            "workflowPriority": workflow_priority,
            "iteration": task.iteration,
            "subWorkflowId": task.output_data.get("subWorkflowId")
            if task.task_type == TaskType.SUB_WORKFLOW
            else None,
            "subworkflowChanged": False,
            "loopOverTask": task.iteration > 0,
            "taskDefinition": task_def if isinstance(task_def, dict) else None,
            "queueWaitTime": max(queue_wait, 0),
            "firstStartTime": task.start_time,
            "waitTimeout": task.wait_until,
        }
    )


def stored_task_json(stored: StoredTask) -> JSON:
    """A task read on its own (a poll, a task lookup), with its workflow's fields."""
    return task_json(
        stored.task, stored.workflow_type, stored.correlation_id, stored.workflow_priority
    )


def workflow_json(state: WorkflowState, include_tasks: bool = True) -> JSON:
    tasks = (
        [task_json(t, state.name, state.correlation_id, state.priority) for t in state.tasks]
        if include_tasks
        else []
    )
    return _compact(
        {
            "createTime": state.create_time,
            "updateTime": state.update_time,
            "createdBy": state.created_by,
            "status": state.status.value,
            "startTime": state.create_time,
            "endTime": state.end_time,
            "workflowId": state.workflow_id,
            "parentWorkflowId": state.parent_workflow_id,
            "parentWorkflowTaskId": state.parent_workflow_task_id,
            "tasks": tasks,
            "input": state.input,
            "output": state.output,
            "correlationId": state.correlation_id,
            "reasonForIncompletion": state.reason_for_incompletion,
            "taskToDomain": state.task_to_domain,
            "failedReferenceTaskNames": state.failed_reference_task_names,
            "failedTaskNames": state.failed_task_names,
            "workflowDefinition": state.definition,
            "priority": state.priority,
            "variables": state.variables,
            "lastRetriedTime": state.last_retried_time,
            "history": [],
            "idempotencyKey": state.idempotency_key,
            "rateLimited": False,
            "workflowName": state.name,
            "workflowVersion": state.version,
        }
    )


def workflow_status_json(
    state: WorkflowState, include_output: bool, include_variables: bool
) -> JSON:
    return _compact(
        {
            "workflowId": state.workflow_id,
            "correlationId": state.correlation_id,
            "output": state.output if include_output else None,
            "variables": state.variables if include_variables else None,
            "status": state.status.value,
        }
    )


def _signal_fields(
    response_type: str, target: WorkflowState, request_id: str, timed_out: bool
) -> JSON:
    return {
        "responseType": response_type,
        "targetWorkflowId": target.workflow_id,
        "targetWorkflowStatus": target.status.value,
        "requestId": request_id,
        "signalTimeout": timed_out,
    }


def workflow_run_json(
    shown: WorkflowState,
    target: WorkflowState,
    response_type: str,
    request_id: str,
    timed_out: bool,
) -> JSON:
    """Conductor's WorkflowRun: a SignalResponse carrying a whole (sub-)workflow."""
    run = workflow_json(shown, include_tasks=True)
    return _compact(
        {
            **_signal_fields(response_type, target, request_id, timed_out),
            "workflowId": shown.workflow_id,
            "correlationId": shown.correlation_id,
            "input": shown.input,
            "output": shown.output,
            "priority": shown.priority,
            "variables": shown.variables,
            "tasks": run["tasks"],
            "createdBy": shown.created_by,
            "createTime": shown.create_time,
            "updateTime": shown.update_time,
            "status": shown.status.value,
        }
    )


def task_run_json(
    task: TaskState,
    owner: WorkflowState,
    target: WorkflowState,
    response_type: str,
    request_id: str,
    timed_out: bool,
) -> JSON:
    """Conductor's TaskRun: a SignalResponse carrying one task of `owner` (the target run or one
    of its sub-workflows). As in Conductor, createdBy is the worker and createTime the start."""
    return _compact(
        {
            **_signal_fields(response_type, target, request_id, timed_out),
            "taskType": task.task_type,
            "taskId": task.task_id,
            "referenceTaskName": task.ref_name,
            "retryCount": task.retry_count,
            "taskDefName": task.task_def_name,
            "retriedTaskId": task.retried_task_id,
            "workflowType": owner.name,
            "reasonForIncompletion": task.reason_for_incompletion,
            "priority": owner.priority,
            "workflowId": task.workflow_id,
            "correlationId": owner.correlation_id,
            "status": task.status.value,
            "input": task.input_data,
            "output": task.output_data,
            "createdBy": task.worker_id,
            "createTime": task.start_time,
            "updateTime": task.update_time,
        }
    )


def task_def_json(task_def: JSON) -> JSON:
    """A stored TaskDef with Conductor's serialized defaults filled in."""
    out: dict[str, Any] = {
        "createTime": 0,
        "updateTime": 0,
        "retryCount": 3,
        "timeoutSeconds": 0,
        "inputKeys": [],
        "outputKeys": [],
        "timeoutPolicy": "TIME_OUT_WF",
        "retryLogic": "FIXED",
        "retryDelaySeconds": 60,
        "responseTimeoutSeconds": 3600,
        "inputTemplate": {},
        "rateLimitPerFrequency": 0,
        "rateLimitFrequencyInSeconds": 1,
        "backoffScaleFactor": 1,
        "totalTimeoutSeconds": 0,
        "enforceSchema": False,
    }
    out.update({k: v for k, v in task_def.items() if v is not None})
    return out
