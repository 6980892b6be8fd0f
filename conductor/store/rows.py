"""Rows <-> engine values: hot fields are columns, the rest lives in the jsonb `body`."""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.engine.model import JSON, TaskState, TaskStatus, WorkflowState, WorkflowStatus
from conductor.store.values import StoredTask

# Status columns to enum members by dict: an Enum call costs several times more on hot paths.
_TASK_STATUS = {status.value: status for status in TaskStatus}
_WORKFLOW_STATUS = {status.value: status for status in WorkflowStatus}


def task_from_row(row: asyncpg.Record) -> TaskState:
    body: JSON = row["body"]
    return TaskState(
        task_id=row["task_id"],
        workflow_id=row["workflow_id"],
        task_type=row["task_type"],
        task_def_name=body.get("taskDefName", row["task_type"]),
        ref_name=row["ref_name"],
        seq=row["seq"],
        workflow_task=body.get("workflowTask") or {},
        status=_TASK_STATUS[row["status"]],
        retry_count=row["retry_count"],
        poll_count=row["poll_count"],
        input_data=body.get("inputData") or {},
        output_data=body.get("outputData") or {},
        scheduled_time=row["scheduled_time"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        update_time=row["update_time"],
        first_scheduled_time=body.get("firstScheduledTime", 0),
        start_delay_seconds=body.get("startDelayInSeconds", 0),
        callback_after_seconds=row["callback_after_seconds"],
        response_timeout_seconds=row["response_timeout_seconds"],
        worker_id=row["worker_id"],
        reason_for_incompletion=body.get("reasonForIncompletion"),
        retried_task_id=body.get("retriedTaskId"),
        retried=bool(body.get("retried")),
        executed=bool(body.get("executed")),
        domain=body.get("domain"),
        queue_name=body.get("queueName"),
        iteration=body.get("iteration", 0),
        awaiting_iteration=body.get("awaitingIteration", 0),
        wait_until=body.get("waitTimeout", 0),
    )


def stored_task_from_row(row: asyncpg.Record) -> StoredTask:
    body: JSON = row["body"]
    return StoredTask(
        task_from_row(row),
        body.get("workflowType"),
        body.get("correlationId"),
        int(body.get("workflowPriority") or 0),
        row.get("ready_at"),
    )


def task_body(task: TaskState, workflow: WorkflowState) -> JSON:
    """The jsonb part of a task row; copies of workflow fields make a poll need no join."""
    body: JSON = {
        "taskDefName": task.task_def_name,
        "workflowTask": task.workflow_task,
        "inputData": task.input_data,
        "outputData": task.output_data,
        "firstScheduledTime": task.first_scheduled_time,
        "startDelayInSeconds": task.start_delay_seconds,
        "retried": task.retried,
        "executed": task.executed,
        "iteration": task.iteration,
        "awaitingIteration": task.awaiting_iteration,
        "waitTimeout": task.wait_until,
        "workflowType": workflow.name,
        "workflowVersion": workflow.version,
        "correlationId": workflow.correlation_id,
        "workflowPriority": workflow.priority,
    }
    optional = {
        "reasonForIncompletion": task.reason_for_incompletion,
        "retriedTaskId": task.retried_task_id,
        "domain": task.domain,
        "queueName": task.queue_name,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def task_insert_args(task: TaskState, workflow: WorkflowState) -> tuple[Any, ...]:
    return (
        task.task_id,
        task.workflow_id,
        task.ref_name,
        task.retry_count,
        task.seq,
        task.task_type,
        task.status.value,
        task.poll_count,
        task.scheduled_time,
        task.start_time,
        task.end_time,
        task.update_time,
        task.worker_id,
        task.callback_after_seconds,
        task.response_timeout_seconds,
        task.settings.timeout_seconds,
        task_body(task, workflow),
    )


def task_save_args(
    task: TaskState,
    revision: int,
    workflow: WorkflowState,
    dequeue: bool,
    timer_keys: list[str],
) -> tuple[Any, ...]:
    return (
        task.task_id,
        revision,
        task.status.value,
        task.poll_count,
        task.start_time,
        task.end_time,
        task.update_time,
        task.worker_id,
        task.callback_after_seconds,
        task_body(task, workflow),
        dequeue,
        timer_keys,
    )


def workflow_from_row(
    row: asyncpg.Record, definition: JSON, tasks: list[TaskState]
) -> WorkflowState:
    body: JSON = row["body"]
    return WorkflowState(
        workflow_id=row["workflow_id"],
        definition=definition,
        status=_WORKFLOW_STATUS[row["status"]],
        create_time=row["create_time"],
        input=body.get("input") or {},
        output=body.get("output") or {},
        variables=body.get("variables") or {},
        task_to_domain=body.get("taskToDomain") or {},
        correlation_id=row["correlation_id"],
        priority=row["priority"],
        update_time=row["update_time"],
        end_time=row["end_time"],
        last_retried_time=body.get("lastRetriedTime", 0),
        reason_for_incompletion=body.get("reasonForIncompletion"),
        failed_reference_task_names=body.get("failedReferenceTaskNames") or [],
        failed_task_names=body.get("failedTaskNames") or [],
        parent_workflow_id=row["parent_workflow_id"],
        parent_workflow_task_id=body.get("parentWorkflowTaskId"),
        created_by=body.get("createdBy"),
        idempotency_key=body.get("idempotencyKey"),
        tasks=tasks,
    )


def workflow_body(state: WorkflowState) -> JSON:
    body: JSON = {
        "input": state.input,
        "output": state.output,
        "variables": state.variables,
        "taskToDomain": state.task_to_domain,
        "failedReferenceTaskNames": state.failed_reference_task_names,
        "failedTaskNames": state.failed_task_names,
        "lastRetriedTime": state.last_retried_time,
    }
    optional = {
        "reasonForIncompletion": state.reason_for_incompletion,
        "parentWorkflowTaskId": state.parent_workflow_task_id,
        "createdBy": state.created_by,
        "idempotencyKey": state.idempotency_key,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def workflow_insert_args(state: WorkflowState, definition_id: str) -> tuple[Any, ...]:
    return (
        state.workflow_id,
        state.name,
        state.version,
        state.status.value,
        state.correlation_id,
        state.priority,
        state.parent_workflow_id,
        state.create_time,
        state.update_time,
        state.end_time,
        definition_id,
        workflow_body(state),
    )
