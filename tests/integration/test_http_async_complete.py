"""asyncComplete on HTTP and EVENT tasks: after its work the task waits IN_PROGRESS until an
external update completes it (Conductor's HttpTask and Event), and its timeouts still run."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conductor.api.keys import POOL
from conductor.store import events as event_store
from tests.conftest import drain
from tests.integration.api import complete, register_task_defs, register_workflow, start, workflow

pytestmark = pytest.mark.integration


@pytest.fixture
async def target():
    calls: list[dict] = []

    async def accept(request: web.Request) -> web.Response:
        calls.append(await request.json())
        if request.query.get("fail"):
            return web.json_response({"error": "nope"}, status=500)
        return web.json_response({"accepted": True, "job": "j-1"}, status=202)

    app = web.Application()
    app.router.add_post("/jobs", accept)
    server = TestServer(app)
    await server.start_server()
    yield server, calls
    await server.close()


def http_call(uri: str, **extra) -> dict:
    return {
        "name": "submit",
        "taskReferenceName": "submit",
        "type": "HTTP",
        "inputParameters": {
            "http_request": {"uri": uri, "method": "POST", "body": {"n": "${workflow.input.n}"}}
        },
        **extra,
    }


async def run(client, uri: str, **extra) -> str:
    definition = {"name": "jobs", "tasks": [http_call(uri, **extra)]}
    await register_workflow(client, definition)
    workflow_id = await start(client, "jobs", {"n": 1})
    await drain(client)
    return workflow_id


async def test_a_2xx_answer_leaves_the_task_in_progress_until_it_is_completed(
    client, target
) -> None:
    server, calls = target
    workflow_id = await run(client, str(server.make_url("/jobs")), asyncComplete=True)
    waiting = await workflow(client, workflow_id)
    assert waiting["status"] == "RUNNING"
    [task] = waiting["tasks"]
    assert task["status"] == "IN_PROGRESS"
    assert task["inputData"]["asyncComplete"] is True
    response = task["outputData"]["response"]
    assert response["statusCode"] == 202
    assert response["body"] == {"accepted": True, "job": "j-1"}
    assert task["startTime"] > 0
    await drain(client)  # nothing left to fire: the call is never made again
    assert calls == [{"n": 1}]
    assert (await workflow(client, workflow_id))["tasks"][0]["status"] == "IN_PROGRESS"
    done = await complete(client, task, output={"result": "done"})
    assert done.status == 200
    finished = await workflow(client, workflow_id)
    assert finished["status"] == "COMPLETED"
    assert finished["tasks"][0]["status"] == "COMPLETED"
    assert finished["tasks"][0]["outputData"]["result"] == "done"
    assert calls == [{"n": 1}]


async def test_completed_by_reference(client, target) -> None:
    server, _calls = target
    workflow_id = await run(client, str(server.make_url("/jobs")), asyncComplete=True)
    path = f"/api/tasks/{workflow_id}/submit/COMPLETED"
    response = await client.post(path, json={"result": "by-ref"})
    assert response.status == 200
    finished = await workflow(client, workflow_id)
    assert finished["status"] == "COMPLETED"
    assert finished["tasks"][0]["outputData"] == {"result": "by-ref"}


async def test_failed_externally_fails_the_run(client, target) -> None:
    server, _calls = target
    workflow_id = await run(client, str(server.make_url("/jobs")), asyncComplete=True)
    [task] = (await workflow(client, workflow_id))["tasks"]
    response = await complete(client, task, "FAILED", reasonForIncompletion="job failed")
    assert response.status == 200
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"
    assert failed["tasks"][0]["reasonForIncompletion"] == "job failed"


async def test_without_async_complete_a_2xx_answer_completes_the_task(client, target) -> None:
    server, calls = target
    workflow_id = await run(client, str(server.make_url("/jobs")))
    run_ = await workflow(client, workflow_id)
    assert run_["status"] == "COMPLETED"
    [task] = run_["tasks"]
    assert task["status"] == "COMPLETED"
    assert task["inputData"]["asyncComplete"] is False
    assert task["outputData"]["response"]["statusCode"] == 202
    assert calls == [{"n": 1}]


async def test_a_failed_call_fails_the_task_even_with_async_complete(client, target) -> None:
    server, _calls = target
    uri = str(server.make_url("/jobs")) + "?fail=1"
    workflow_id = await run(client, uri, asyncComplete=True)
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"
    [task] = failed["tasks"]
    assert task["status"] == "FAILED"
    assert task["outputData"]["response"]["statusCode"] == 500


async def test_timeout_seconds_still_applies_while_it_waits(client, clock, target) -> None:
    server, _calls = target
    await register_task_defs(
        client,
        {
            "name": "submit",
            "retryCount": 0,
            "timeoutSeconds": 30,
            "responseTimeoutSeconds": 5,
            "timeoutPolicy": "TIME_OUT_WF",
        },
    )
    workflow_id = await run(client, str(server.make_url("/jobs")), asyncComplete=True)
    assert (await workflow(client, workflow_id))["tasks"][0]["status"] == "IN_PROGRESS"
    # Past responseTimeoutSeconds: Conductor does not apply it to an asyncComplete system task.
    clock.advance(10)
    await drain(client)
    assert (await workflow(client, workflow_id))["tasks"][0]["status"] == "IN_PROGRESS"
    clock.advance(21)  # past timeoutSeconds: the armed timer wakes the decider
    await drain(client)
    timed_out = await workflow(client, workflow_id)
    assert timed_out["status"] == "TIMED_OUT"
    [task] = timed_out["tasks"]
    assert task["status"] == "TIMED_OUT"
    assert task["reasonForIncompletion"].startswith("Task timed out after 31 seconds")


async def test_a_timed_out_wait_is_retried_with_a_new_call(client, clock, target) -> None:
    server, calls = target
    await register_task_defs(
        client,
        {
            "name": "submit",
            "retryCount": 1,
            "retryDelaySeconds": 0,
            "timeoutSeconds": 30,
            "responseTimeoutSeconds": 5,
            "timeoutPolicy": "RETRY",
        },
    )
    workflow_id = await run(client, str(server.make_url("/jobs")), asyncComplete=True)
    clock.advance(31)
    await drain(client)
    retried = await workflow(client, workflow_id)
    assert [t["status"] for t in retried["tasks"]] == ["TIMED_OUT", "IN_PROGRESS"]
    assert len(calls) == 2
    await complete(client, retried["tasks"][1])
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_an_event_task_with_async_complete_waits_after_publishing(client) -> None:
    definition = {
        "name": "announce",
        "tasks": [
            {
                "name": "tell",
                "taskReferenceName": "tell",
                "type": "EVENT",
                "sink": "conductor",
                "asyncComplete": True,
                "inputParameters": {"orderId": "${workflow.input.id}"},
            }
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "announce", {"id": 5})
    waiting = await workflow(client, workflow_id)
    assert waiting["status"] == "RUNNING"
    [task] = waiting["tasks"]
    assert task["status"] == "IN_PROGRESS"
    assert task["inputData"] == {"orderId": 5, "sink": "conductor", "asyncComplete": True}
    assert task["outputData"]["event_produced"] == "conductor:announce:tell"
    async with client.server.app[POOL].acquire() as conn:
        [message] = await event_store.messages(conn, "conductor:announce:tell")
    assert message.payload["orderId"] == 5
    await complete(client, task, output={"ack": True})
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_an_event_task_without_async_complete_completes_as_it_publishes(client) -> None:
    definition = {
        "name": "announce",
        "tasks": [
            {"name": "tell", "taskReferenceName": "tell", "type": "EVENT", "sink": "conductor"}
        ],
    }
    await register_workflow(client, definition)
    run_ = await workflow(client, await start(client, "announce", {}))
    assert run_["status"] == "COMPLETED"
    assert run_["tasks"][0]["inputData"] == {"sink": "conductor", "asyncComplete": False}
