"""Conductor's payload caps: 10485760 bytes of JSON for a workflow input and for a task output.

A start over the cap is refused with nothing written; a task output over it fails the task
(FAILED_WITH_TERMINAL_ERROR, output emptied, Conductor's reason) whoever reported it.
"""

from __future__ import annotations

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conductor.api.keys import EXECUTOR
from conductor.config import DEFAULT_MAX_PAYLOAD_BYTES
from tests.conftest import drain
from tests.integration.api import (
    JSON_HEADERS,
    complete,
    poll,
    register_task_defs,
    register_workflow,
    row_counts,
    sequence,
    sub_workflow_task,
    workflow,
)

pytestmark = pytest.mark.integration

LIMIT = DEFAULT_MAX_PAYLOAD_BYTES
assert LIMIT == 10485760  # Conductor's 10240 KB


def payload_of_size(size: int, key: str = "blob") -> dict:
    """A JSON object whose compact encoding is exactly `size` bytes."""
    overhead = len(orjson.dumps({key: ""}))
    payload = {key: "x" * (size - overhead)}
    assert len(orjson.dumps(payload)) == size
    return payload


@pytest.fixture
async def registered(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("wf", "a"))


def assert_refused_start(body: dict, size: int, limit: int = LIMIT) -> None:
    assert body["status"] == 400
    assert body["retryable"] is False
    assert body["message"].startswith(f"The payload size: {size} of workflow: ")
    assert body["message"].endswith(f" is greater than the permissible limit: {limit} bytes")


async def test_a_start_input_of_exactly_the_limit_is_accepted(client, registered) -> None:
    workflow_input = payload_of_size(LIMIT)
    response = await client.post(
        "/api/workflow/wf", data=orjson.dumps(workflow_input), headers=JSON_HEADERS
    )
    assert response.status == 200, (await response.text())[:500]
    run = await workflow(client, await response.text())
    assert run["status"] == "RUNNING"
    assert run["input"] == workflow_input


@pytest.mark.parametrize(
    ("path", "wrap"),
    [
        ("/api/workflow/wf", lambda i: i),
        ("/api/workflow", lambda i: {"name": "wf", "input": i, "correlationId": "too-big"}),
        ("/api/workflow/execute/wf/1", lambda i: {"name": "wf", "input": i}),
        ("/api/workflow/test", lambda i: {"name": "wf", "input": i}),
    ],
)
async def test_a_start_input_one_byte_over_is_refused_and_nothing_written(
    client, registered, path, wrap
) -> None:
    before = await row_counts(client)
    response = await client.post(
        path, data=orjson.dumps(wrap(payload_of_size(LIMIT + 1))), headers=JSON_HEADERS
    )
    assert response.status == 400
    assert_refused_start(await response.json(), LIMIT + 1)
    assert await row_counts(client) == before
    correlated = await client.get("/api/workflow/wf/correlated/too-big?includeClosed=true")
    assert await correlated.json() == []


async def test_the_limit_counts_the_input_as_stored(client, registered) -> None:
    # inputTemplate defaults join the input before it is measured, as in Conductor.
    client.server.app[EXECUTOR].max_workflow_input_bytes = 100
    definition = sequence("templated", "a", inputTemplate={"pad": "p" * 90})
    await register_workflow(client, definition)
    response = await client.post("/api/workflow/templated", json={"small": 1})
    assert response.status == 400
    stored = {"small": 1, "pad": "p" * 90}
    assert_refused_start(await response.json(), len(orjson.dumps(stored)), limit=100)


async def test_a_sub_workflow_input_over_the_limit_fails_its_task(client, registered) -> None:
    client.server.app[EXECUTOR].max_workflow_input_bytes = 100
    parent = {
        "name": "parent",
        "tasks": [
            {
                **sub_workflow_task("child", "wf"),
                "inputParameters": {"blob": "${workflow.input.blob}", "more": 1},
            }
        ],
    }
    await register_workflow(client, parent)
    response = await client.post("/api/workflow/parent", json=payload_of_size(100))
    assert response.status == 200
    await drain(client)
    run = await workflow(client, await response.text())
    task = run["tasks"][0]
    assert task["status"] == "FAILED"
    assert "is greater than the permissible limit: 100 bytes" in task["reasonForIncompletion"]
    assert run["status"] == "FAILED"


def task_reason(task: dict, size: int) -> str:
    return (
        f"The payload size: {size} of task: {task['taskId']} in workflow: "
        f"{task['workflowInstanceId']}  is greater than the permissible limit: {LIMIT} bytes"
    )


def assert_failed_for_size(run: dict, size: int) -> None:
    """The task failed terminally with Conductor's reason and no output; the run failed."""
    [task] = run["tasks"]  # not retried: the failure is terminal
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"] == task_reason(task, size)
    assert task["outputData"] == {}
    assert run["status"] == "FAILED"
    assert "permissible limit" in run["reasonForIncompletion"]


@pytest.fixture
async def retried_work(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 2, "retryDelaySeconds": 0})
    await register_workflow(client, sequence("wf", "a"))


async def started_task(client) -> dict:
    response = await client.post("/api/workflow/wf", json={})
    assert response.status == 200
    [task] = await poll(client, "work")
    return task


async def test_a_worker_output_of_exactly_the_limit_is_accepted(client, retried_work) -> None:
    task = await started_task(client)
    output = payload_of_size(LIMIT)
    response = await complete(client, task, output=output)
    assert response.status == 200
    run = await workflow(client, task["workflowInstanceId"])
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == output


@pytest.mark.parametrize("call", ["update", "update-v2", "by-reference"])
async def test_a_worker_output_one_byte_over_fails_the_task(client, retried_work, call) -> None:
    task = await started_task(client)
    output = payload_of_size(LIMIT + 1)
    if call == "update":
        response = await complete(client, task, output=output)
    elif call == "update-v2":
        body = {**task_result(task), "outputData": output, "workerId": "w1"}
        response = await client.post(
            "/api/tasks/update-v2", data=orjson.dumps(body), headers=JSON_HEADERS
        )
    else:
        path = f"/api/tasks/{task['workflowInstanceId']}/{task['referenceTaskName']}/COMPLETED"
        response = await client.post(path, data=orjson.dumps(output), headers=JSON_HEADERS)
    assert response.status in (200, 204), (await response.text())[:300]
    await drain(client)
    assert_failed_for_size(await workflow(client, task["workflowInstanceId"]), LIMIT + 1)


def task_result(task: dict) -> dict:
    return {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": "COMPLETED",
    }


def inline_task(expression: str, **params) -> dict:
    return {
        "name": "s",
        "taskReferenceName": "s",
        "type": "INLINE",
        "inputParameters": {"evaluatorType": "javascript", "expression": expression, **params},
    }


async def run_one_task(client, task: dict, workflow_input: dict | None = None) -> dict:
    await register_task_defs(client, {"name": task["name"], "retryCount": 2})
    await register_workflow(client, {"name": "system", "tasks": [task]})
    response = await client.post("/api/workflow/system", json=workflow_input or {})
    assert response.status == 200, await response.text()
    await drain(client)
    return await workflow(client, await response.text())


@pytest.mark.parametrize("size", [LIMIT, LIMIT + 1])
async def test_an_inline_output_at_and_one_byte_over_the_limit(client, size) -> None:
    overhead = len(orjson.dumps({"result": ""}))
    task = inline_task("'x'.repeat($.n)", n="${workflow.input.n}")
    run = await run_one_task(client, task, {"n": size - overhead})
    if size == LIMIT:
        assert run["status"] == "COMPLETED"
        assert len(orjson.dumps(run["tasks"][0]["outputData"])) == LIMIT
    else:
        assert_failed_for_size(run, size)


async def test_an_inline_script_returning_16_mb_fails_its_task(client) -> None:
    run = await run_one_task(client, inline_task("'x'.repeat(16 * 1024 * 1024)"))
    assert_failed_for_size(run, len(orjson.dumps({"result": "x" * 16 * 1024 * 1024})))


async def test_a_jq_transform_producing_16_mb_fails_its_task(client) -> None:
    task = {
        "name": "j",
        "taskReferenceName": "j",
        "type": "JSON_JQ_TRANSFORM",
        "inputParameters": {"queryExpression": '"x" * 16777216'},
    }
    run = await run_one_task(client, task)
    blob = "x" * 16777216
    assert_failed_for_size(run, len(orjson.dumps({"result": blob, "resultList": [blob]})))


@pytest.fixture
async def big_body_server():
    async def big(_request: web.Request) -> web.Response:
        return web.Response(text="x" * (16 * 1024 * 1024), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/big", big)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


async def test_an_http_response_of_16_mb_fails_its_task(client, big_body_server) -> None:
    uri = str(big_body_server.make_url("/big"))
    task = {
        "name": "h",
        "taskReferenceName": "h",
        "type": "HTTP",
        "inputParameters": {"http_request": {"uri": uri, "method": "GET"}},
    }
    run = await run_one_task(client, task)
    [attempt] = run["tasks"]
    # The HTTP task's own cap (the same 10 MiB) stops reading the body before the output cap.
    assert attempt["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "larger than 10485760 bytes" in attempt["reasonForIncompletion"]
    assert len(orjson.dumps(attempt["outputData"])) < 1000  # the body was not kept
    assert run["status"] == "FAILED"
