"""/api/queue: publishes to the default COMPLETED and FAILED queues complete or fail the task
a message names (by reference, by id, or the only WAIT task), after the event processor takes
them; bad requests are refused and write nothing."""

from __future__ import annotations

import pytest

from conductor.app import EVENT_PROCESSOR
from tests.integration.api import register_workflow, row_counts, start, workflow

pytestmark = pytest.mark.integration

QUEUES = {"COMPLETED": "conductor_notify_COMPLETED", "FAILED": "conductor_notify_FAILED"}


def wait_task(ref: str) -> dict:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT"}


@pytest.fixture
async def waiting(client):
    await register_workflow(client, {"name": "waits", "tasks": [wait_task("hold")]})
    await register_workflow(
        client, {"name": "two_waits", "tasks": [wait_task("first"), wait_task("second")]}
    )


async def process(client) -> int:
    return await client.server.app[EVENT_PROCESSOR].run_once()


async def sizes(client) -> dict:
    return await (await client.get("/api/queue/size")).json()


async def test_queue_names_and_sizes(client, waiting) -> None:
    assert await (await client.get("/api/queue/")).json() == QUEUES
    assert await sizes(client) == {QUEUES["COMPLETED"]: 0, QUEUES["FAILED"]: 0}
    workflow_id = await start(client, "waits")
    response = await client.post(f"/api/queue/update/{workflow_id}/hold/COMPLETED", json={})
    assert response.status == 200
    assert await sizes(client) == {QUEUES["COMPLETED"]: 1, QUEUES["FAILED"]: 0}
    assert await process(client) == 1
    assert await sizes(client) == {QUEUES["COMPLETED"]: 0, QUEUES["FAILED"]: 0}


async def test_complete_by_reference_merges_the_message_into_the_output(client, waiting) -> None:
    workflow_id = await start(client, "waits")
    response = await client.post(
        f"/api/queue/update/{workflow_id}/hold/COMPLETED", json={"approved": True}
    )
    assert response.status == 200
    assert (await workflow(client, workflow_id))["status"] == "RUNNING"  # not applied yet
    await process(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    [task] = run["tasks"]
    assert task["status"] == "COMPLETED"
    assert task["outputData"]["approved"] is True
    assert '"taskRefName": "hold"' in task["outputData"]["externalId"]


async def test_fail_by_task_id(client, waiting) -> None:
    workflow_id = await start(client, "two_waits")
    [first] = (await workflow(client, workflow_id))["tasks"]
    response = await client.post(
        f"/api/queue/update/{workflow_id}/task/{first['taskId']}/FAILED", json={"why": "no"}
    )
    assert response.status == 200
    await process(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert run["tasks"][0]["status"] == "FAILED"
    assert run["tasks"][0]["outputData"]["why"] == "no"


async def test_stale_and_unknown_targets_change_nothing(client, waiting) -> None:
    workflow_id = await start(client, "two_waits")
    before = await workflow(client, workflow_id)
    # Accepted (the publish succeeds, as in Conductor), then dropped by the processor.
    for path in (
        f"/api/queue/update/{workflow_id}/no_such_ref/COMPLETED",
        f"/api/queue/update/{workflow_id}/task/no-such-task/COMPLETED",
        "/api/queue/update/no-such-workflow/hold/COMPLETED",
        f"/api/queue/update/{workflow_id}/second/COMPLETED",  # not scheduled yet
    ):
        assert (await client.post(path, json={})).status == 200
    assert await process(client) == 4
    assert await workflow(client, workflow_id) == before
    assert await sizes(client) == {QUEUES["COMPLETED"]: 0, QUEUES["FAILED"]: 0}


async def test_refusals_write_nothing(client, waiting) -> None:
    workflow_id = await start(client, "waits")
    before = await row_counts(client)
    for path, body in (
        (f"/api/queue/update/{workflow_id}/hold/IN_PROGRESS", {}),  # no queue for it
        (f"/api/queue/update/{workflow_id}/hold/DONE", {}),  # not a status
        (f"/api/queue/update/{workflow_id}/hold/COMPLETED", None),  # no body
        (f"/api/queue/update/{workflow_id}/hold/COMPLETED", [1, 2]),  # not an object
    ):
        response = await client.post(path, json=body)
        assert response.status == 400, path
        error = await response.json()
        assert error["status"] == 400 and error["message"]
    assert await row_counts(client) == before
    assert await sizes(client) == {QUEUES["COMPLETED"]: 0, QUEUES["FAILED"]: 0}
