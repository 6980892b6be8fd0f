"""JSON_JQ_TRANSFORM and HTTP system tasks, run by the server's system-task runner."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conductor.app import COMPONENTS
from tests.conftest import fire_timers
from tests.integration.api import register_task_defs, register_workflow, start, workflow

pytestmark = pytest.mark.integration


async def run_to_end(client, name: str, workflow_input: dict) -> dict:
    workflow_id = await start(client, name, workflow_input)
    while await fire_timers(client):
        pass
    return await workflow(client, workflow_id)


def jq_task(ref: str, query: str, **params) -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "JSON_JQ_TRANSFORM",
        "inputParameters": {"queryExpression": query, **params},
    }


async def test_jq_transform_result_and_result_list(client) -> None:
    definition = {
        "name": "jq",
        "tasks": [
            jq_task("names", ".people | map(.name)", people="${workflow.input.people}"),
            jq_task("each", ".people[] | .age", people="${workflow.input.people}"),
        ],
    }
    await register_workflow(client, definition)
    people = [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]
    run = await run_to_end(client, "jq", {"people": people})
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {
        "result": ["Ada", "Alan"],
        "resultList": [["Ada", "Alan"]],
    }
    assert run["tasks"][1]["outputData"] == {"result": 36, "resultList": [36, 41]}


async def test_jq_runtime_error_fails_the_task(client) -> None:
    await register_workflow(client, {"name": "jq_bad", "tasks": [jq_task("t", ".a.b", a="text")]})
    run = await run_to_end(client, "jq_bad", {})
    task = run["tasks"][0]
    assert task["status"] == "FAILED"
    assert "Cannot index string" in task["reasonForIncompletion"]
    assert task["outputData"]["error"] == task["reasonForIncompletion"]


async def test_a_runaway_jq_query_is_stopped(client) -> None:
    client.server.app[COMPONENTS].jq.timeout_s = 1.0
    await register_workflow(client, {"name": "jq_loop", "tasks": [jq_task("t", "[repeat(.)]")]})
    run = await run_to_end(client, "jq_loop", {})
    assert run["tasks"][0]["status"] == "FAILED"
    assert "timed out" in run["tasks"][0]["reasonForIncompletion"]
    again = await run_to_end(client, "jq_loop", {})  # the pool was replaced and still works
    assert again["tasks"][0]["status"] == "FAILED"


async def test_jq_definition_errors_are_400(client) -> None:
    missing = {
        "name": "jq_missing",
        "tasks": [
            {
                "name": "t",
                "taskReferenceName": "t",
                "type": "JSON_JQ_TRANSFORM",
                "inputParameters": {},
            }
        ],
    }
    assert (await client.post("/api/metadata/workflow", json=missing)).status == 400
    syntax = {"name": "jq_syntax", "tasks": [jq_task("t", ".a |||")]}
    response = await client.post("/api/metadata/workflow", json=syntax)
    assert response.status == 400
    assert "does not compile" in (await response.json())["validationErrors"][0]["message"]


@pytest.fixture
async def echo_server():
    calls: list[dict] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        calls.append(
            {"method": request.method, "body": body, "auth": request.headers.get("X-Auth")}
        )
        if request.query.get("fail"):
            return web.json_response({"error": "nope"}, status=503)
        return web.json_response({"echo": body, "method": request.method}, headers={"X-Reply": "1"})

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    server = TestServer(app)
    await server.start_server()
    yield server, calls
    await server.close()


def http_task(ref: str, uri: str, method: str = "POST", **request) -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "HTTP",
        "inputParameters": {"http_request": {"uri": uri, "method": method, **request}},
    }


async def test_http_task_success(client, echo_server) -> None:
    server, calls = echo_server
    uri = str(server.make_url("/echo"))
    definition = {
        "name": "http_ok",
        "tasks": [
            http_task("call", uri, body={"id": "${workflow.input.id}"}, headers={"X-Auth": "k"})
        ],
        "outputParameters": {"echo": "${call.output.response.body.echo}"},
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "http_ok", {"id": 7})
    assert run["status"] == "COMPLETED"
    response = run["tasks"][0]["outputData"]["response"]
    assert response["statusCode"] == 200 and response["reasonPhrase"] == "OK"
    assert response["headers"]["X-Reply"] == ["1"]
    assert run["output"] == {"echo": {"id": 7}}
    assert calls == [{"method": "POST", "body": {"id": 7}, "auth": "k"}]


async def test_http_failure_is_retried_per_task_def(client, echo_server) -> None:
    server, calls = echo_server
    uri = str(server.make_url("/echo")) + "?fail=1"
    await register_task_defs(
        client, {"name": "flaky_call", "retryCount": 2, "retryDelaySeconds": 0}
    )
    task = {**http_task("call", uri, method="GET"), "name": "flaky_call"}
    await register_workflow(client, {"name": "http_fail", "tasks": [task]})
    run = await run_to_end(client, "http_fail", {})
    assert [t["status"] for t in run["tasks"]] == ["FAILED", "FAILED", "FAILED"]
    assert run["status"] == "FAILED"
    assert len(calls) == 3
    first = run["tasks"][0]
    assert first["outputData"]["response"]["statusCode"] == 503
    assert "status 503" in first["reasonForIncompletion"]


async def test_http_unreachable_and_bad_input(client) -> None:
    definition = {
        "name": "http_down",
        "tasks": [
            http_task("call", "http://127.0.0.1:1/nothing", method="GET", connectionTimeOut=500)
        ],
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "http_down", {})
    assert run["tasks"][0]["status"] == "FAILED"
    assert run["tasks"][0]["reasonForIncompletion"].startswith("Failed to invoke HTTP task due to")
    no_request = {
        "name": "http_bad",
        "tasks": [{"name": "c", "taskReferenceName": "c", "type": "HTTP", "inputParameters": {}}],
    }
    assert (await client.post("/api/metadata/workflow", json=no_request)).status == 400
