"""Malformed or mistyped requests get a 4xx in Conductor's error shape and change nothing."""

from __future__ import annotations

import asyncio

import pytest

from conductor.app import MAX_BODY_BYTES
from tests.integration.api import (
    JSON_HEADERS,
    complete,
    poll,
    register_task_defs,
    register_workflow,
    row_counts,
    sequence,
    start,
    workflow,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def running(client):
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("wf", "a", "b"))
    workflow_id = await start(client, "wf")
    [task] = await poll(client, "work")
    return workflow_id, task


def assert_error_shape(body: dict, status: int) -> None:
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert body["retryable"] is False
    assert "instance" in body


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("POST", "/api/workflow", b'{"name": "wf", "input": {'),
        ("POST", "/api/workflow", b'{"name": "wf", "input": NaN}'),
        ("POST", "/api/workflow", b"\xff\xfe not utf-8"),
        ("POST", "/api/workflow", b"[" * 100_000 + b"]" * 100_000),
        ("POST", "/api/workflow", b'"just a string"'),
        ("POST", "/api/workflow", b'{"name": "wf", "input": [1, 2]}'),
        ("POST", "/api/workflow", b'{"name": "wf", "version": "one"}'),
        ("POST", "/api/workflow", b'{"name": "wf", "priority": 100}'),
        ("POST", "/api/workflow", b'{"input": {}}'),
        ("POST", "/api/workflow", b""),
        ("POST", "/api/workflow/wf", b'{"a": '),
        ("POST", "/api/workflow/wf", b"[1]"),
        ("POST", "/api/metadata/taskdefs", b'{"name": "single-not-list"}'),
        ("POST", "/api/metadata/taskdefs", b"[]"),
        ("POST", "/api/metadata/taskdefs", b'[{"name": "x", "retryCount": "many"}]'),
        ("POST", "/api/metadata/workflow", b'{"name": "w2", "tasks": "nope"}'),
        ("POST", "/api/metadata/workflow", b'{"name": "w2", "tasks": [{"name": "t"}]}'),
        (
            "PUT",
            "/api/metadata/workflow",
            b'[{"name": "ok", "tasks": [{"name": "t", "taskReferenceName": "t"}]}, 5]',
        ),
        ("POST", "/api/tasks", b'{"taskId": "x"}'),
        ("POST", "/api/tasks", b'{"workflowInstanceId": "w", "taskId": "t", "status": "DONE"}'),
        (
            "POST",
            "/api/tasks",
            b'{"workflowInstanceId": "w", "taskId": "t", "status": "COMPLETED", "outputData": [1]}',
        ),
        ("POST", "/api/tasks", b'{"workflowInstanceId": 7, "taskId": "t", "status": "COMPLETED"}'),
        (
            "POST",
            "/api/tasks",
            b'{"workflowInstanceId": "w", "taskId": "t", "status": "COMPLETED",'
            b' "callbackAfterSeconds": "soon"}',
        ),
        ("POST", "/api/tasks/update-v2", b"{oops"),
        ("GET", "/api/tasks/poll/batch/work?count=abc", None),
        ("GET", "/api/tasks/poll/batch/work?timeout=6000", None),
        ("GET", "/api/tasks/poll/batch/work?count=0", None),
        ("GET", "/api/workflow/x?includeTasks=maybe", None),
        ("GET", "/api/metadata/workflow/wf?version=latest", None),
        ("DELETE", "/api/metadata/workflow/wf/one", None),
    ],
)
async def test_bad_requests_get_400_and_write_nothing(client, running, method, path, data) -> None:
    before = await row_counts(client)
    response = await client.request(method, path, data=data, headers=JSON_HEADERS)
    assert response.status == 400, await response.text()
    assert_error_shape(await response.json(), 400)
    assert await row_counts(client) == before


async def test_unknown_ids_get_404(client, running) -> None:
    workflow_id, task = running
    cases = [
        ("GET", "/api/workflow/no-such-id", None),
        ("DELETE", "/api/workflow/no-such-id", {}),
        (
            "POST",
            "/api/tasks",
            {"workflowInstanceId": workflow_id, "taskId": "nope", "status": "COMPLETED"},
        ),
        (
            "POST",
            "/api/tasks",
            {"workflowInstanceId": "nope", "taskId": task["taskId"], "status": "COMPLETED"},
        ),
        ("GET", "/api/no/such/route", None),
    ]
    for method, path, body in cases:
        response = await client.request(method, path, json=body)
        assert response.status == 404, (path, await response.text())
        assert_error_shape(await response.json(), 404)


@pytest.mark.parametrize("path", ["/api/workflow", "/api/tasks", "/api/tasks/update-v2"])
async def test_oversized_body_is_413_in_conductors_error_shape(client, running, path) -> None:
    body = b'{"name": "wf", "input": {"blob": "' + b"x" * (13 * 1024 * 1024) + b'"}}'
    before = await row_counts(client)
    response = await client.post(path, data=body, headers=JSON_HEADERS)
    assert response.status == 413
    error = await response.json()
    assert_error_shape(error, 413)
    assert error["message"].startswith(f"Maximum request body size {MAX_BODY_BYTES} exceeded")
    assert await row_counts(client) == before


async def test_sdk_style_query_values_are_accepted(client, running) -> None:
    workflow_id, _ = running
    ok = await client.get(f"/api/workflow/{workflow_id}?includeTasks=False")
    assert ok.status == 200 and (await ok.json())["tasks"] == []
    ok = await client.get("/api/tasks/poll/batch/work?count=1&timeout=&workerid=None&domain=")
    assert ok.status == 200
    ok = await client.post("/api/metadata/workflow?overwrite=True", json=sequence("wf", "a", "b"))
    assert ok.status == 200


async def test_chunked_request_body_is_read(client, running) -> None:
    async def chunks():
        yield b'{"who": '
        yield b'"chunked"}'

    response = await client.post("/api/workflow/wf", data=chunks(), headers=JSON_HEADERS)
    assert response.status == 200
    run = await workflow(client, await response.text())
    assert run["input"] == {"who": "chunked"}


async def test_duplicate_concurrent_updates_apply_once(client, running) -> None:
    workflow_id, task = running
    responses = await asyncio.gather(*(complete(client, task, output={"n": i}) for i in range(10)))
    assert [r.status for r in responses] == [200] * 10
    run = await workflow(client, workflow_id)
    assert [t["referenceTaskName"] for t in run["tasks"]] == ["a", "b"]  # b scheduled once
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert len(await poll(client, "work", count=10)) == 1
    metrics = await (await client.get("/metrics")).text()
    assert 'conductor_task_updates_total{status="COMPLETED"} 10.0' in metrics
    assert "conductor_task_updates_ignored_total 9.0" in metrics


async def test_late_update_after_completion_changes_nothing(client, running) -> None:
    workflow_id, task = running
    await complete(client, task, output={"final": True})
    late = await complete(client, task, status="FAILED", reasonForIncompletion="late")
    assert late.status == 200
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"final": True}
    assert run["status"] == "RUNNING"
