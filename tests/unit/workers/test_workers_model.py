"""Task parsing from poll JSON and TaskResult serialisation."""

from __future__ import annotations

import pytest

from workers import Task, TaskLog, TaskResult, TaskResultStatus

POLLED = {
    "taskId": "t1",
    "workflowInstanceId": "w1",
    "taskType": "greet",
    "taskDefName": "greet",
    "referenceTaskName": "greet_ref",
    "status": "IN_PROGRESS",
    "inputData": {"name": "World"},
    "retryCount": 2,
    "pollCount": 3,
    "responseTimeoutSeconds": 30,
    "workflowType": "hello_world",
    "correlationId": "c1",
    "iteration": 1,
    "domain": "blue",
    "seq": 7,
}


def test_task_from_poll_json():
    task = Task.from_json(POLLED)
    assert task == Task(
        task_id="t1",
        workflow_instance_id="w1",
        task_type="greet",
        task_def_name="greet",
        reference_task_name="greet_ref",
        input_data={"name": "World"},
        retry_count=2,
        poll_count=3,
        response_timeout_seconds=30,
        workflow_type="hello_world",
        correlation_id="c1",
        iteration=1,
        domain="blue",
    )
    assert task.raw["seq"] == 7


def test_task_tolerates_missing_and_null_fields():
    task = Task.from_json(
        {"taskId": "t1", "workflowInstanceId": "w1", "inputData": None, "retryCount": None}
    )
    assert (task.input_data, task.retry_count, task.correlation_id) == ({}, 0, None)


@pytest.mark.parametrize("obj", [[], {"taskId": "t1"}, {"workflowInstanceId": "w1"}])
def test_task_without_ids_is_rejected(obj: object):
    with pytest.raises(ValueError, match="task"):
        Task.from_json(obj)


def test_task_result_json_is_camel_case_without_nones():
    result = TaskResult("w1", "t1", TaskResultStatus.COMPLETED, {"x": 1}, worker_id="me")
    assert result.to_json() == {
        "workflowInstanceId": "w1",
        "taskId": "t1",
        "status": "COMPLETED",
        "outputData": {"x": 1},
        "workerId": "me",
    }


def test_task_result_for_task_with_all_fields():
    task = Task.from_json(POLLED)
    result = TaskResult.for_task(
        task,
        TaskResultStatus.IN_PROGRESS,
        callback_after_seconds=5,
        reason_for_incompletion="waiting",
        logs=(TaskLog("line", "t1", created_time=1700000000000),),
    )
    assert result.to_json() == {
        "workflowInstanceId": "w1",
        "taskId": "t1",
        "status": "IN_PROGRESS",
        "outputData": {},
        "reasonForIncompletion": "waiting",
        "callbackAfterSeconds": 5,
        "logs": [{"log": "line", "taskId": "t1", "createdTime": 1700000000000}],
    }
