"""Signals, updates by reference answered with the run, and sync execute's return strategies.

The server runs its background services (sub-workflows start on the system-task runner), so a
held request settles by itself, as it does for a user.
"""

from __future__ import annotations

from typing import Any

import pytest

from conductor.app import create_app
from conductor.config import Settings
from tests.integration.api import register_workflow, start, sub_workflow_task, workflow

pytestmark = pytest.mark.integration


def wait_task(ref: str, **params: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT", "inputParameters": params}


@pytest.fixture
async def live(db_dsn, aiohttp_client):
    client = await aiohttp_client(create_app(Settings(database_url=db_dsn)))
    await register_workflow(
        client,
        {
            "name": "approval_child",
            "tasks": [wait_task("child_wait", reason="${workflow.input.why}")],
            "outputParameters": {"approved": "${child_wait.output.approved}"},
        },
    )
    await register_workflow(
        client,
        {
            "name": "approval",
            "tasks": [
                wait_task("first_wait", note="${workflow.input.note}"),
                sub_workflow_task(
                    "review",
                    "approval_child",
                    inputParameters={"why": "${first_wait.output.why}"},
                ),
                wait_task("last_wait"),
            ],
            "outputParameters": {"approved": "${review.output.approved}"},
        },
    )
    return client


async def execute(client, strategy: str | None = None, **params: Any) -> tuple[int, Any]:
    query = {"waitForSeconds": "10", **params}
    if strategy:
        query["returnStrategy"] = strategy
    response = await client.post(
        "/api/workflow/execute/approval/1", params=query, json={"input": {"note": "n-1"}}
    )
    return response.status, await response.json()


async def signal_sync(
    client, workflow_id: str, output: dict[str, Any], strategy: str | None = None
) -> tuple[int, Any]:
    query = {"returnStrategy": strategy} if strategy else {}
    response = await client.post(
        f"/api/tasks/{workflow_id}/COMPLETED/signal/sync", params=query, json=output
    )
    return response.status, await response.json()


async def test_execute_answers_the_blocking_task(live) -> None:
    status, run = await execute(live, "BLOCKING_TASK")
    assert status == 200
    assert run["responseType"] == "BLOCKING_TASK"
    assert run["referenceTaskName"] == "first_wait" and run["taskType"] == "WAIT"
    assert run["status"] == "IN_PROGRESS" and run["input"]["note"] == "n-1"
    assert run["workflowId"] == run["targetWorkflowId"]
    assert run["targetWorkflowStatus"] == "RUNNING" and run["workflowType"] == "approval"
    assert run["signalTimeout"] is False and "tasks" not in run


async def test_execute_task_input_strategy_and_default(live) -> None:
    _, task_input = await execute(live, "BLOCKING_TASK_INPUT")
    assert task_input["responseType"] == "BLOCKING_TASK_INPUT"
    assert task_input["input"]["note"] == "n-1"
    _, default = await execute(live, requestId="req-7")
    assert default["responseType"] == "TARGET_WORKFLOW" and default["requestId"] == "req-7"
    assert [t["referenceTaskName"] for t in default["tasks"]] == ["first_wait"]


async def test_signals_walk_into_the_sub_workflow_and_out(live) -> None:
    _, run = await execute(live)
    parent_id = run["workflowId"]

    # The first signal ends first_wait; the run then blocks in the child.
    status, blocking = await signal_sync(live, parent_id, {"why": "audit"}, "BLOCKING_WORKFLOW")
    assert status == 200 and blocking["responseType"] == "BLOCKING_WORKFLOW"
    assert blocking["workflowId"] != parent_id and blocking["targetWorkflowId"] == parent_id
    assert [t["referenceTaskName"] for t in blocking["tasks"]] == ["child_wait"]
    assert blocking["input"] == {"why": "audit"}
    child_id = blocking["workflowId"]

    # The next one finds the child's WAIT through the parent.
    status, task = await signal_sync(live, parent_id, {"approved": True}, "BLOCKING_TASK")
    assert status == 200 and task["referenceTaskName"] == "last_wait"
    assert task["workflowId"] == parent_id and task["targetWorkflowStatus"] == "RUNNING"
    assert (await workflow(live, child_id))["status"] == "COMPLETED"

    # The last ends the run: the target workflow comes back, finished.
    status, done = await signal_sync(live, parent_id, {})
    assert status == 200 and done["responseType"] == "TARGET_WORKFLOW"
    assert done["status"] == "COMPLETED" and done["output"] == {"approved": True}
    assert done["targetWorkflowStatus"] == "COMPLETED" and done["signalTimeout"] is False


async def test_a_task_strategy_with_nothing_blocked_answers_the_run(live) -> None:
    _, run = await execute(live)
    parent_id = run["workflowId"]
    await signal_sync(live, parent_id, {"why": "w"})
    await signal_sync(live, parent_id, {"approved": False})
    status, done = await signal_sync(live, parent_id, {}, "BLOCKING_TASK")
    assert status == 200 and done["status"] == "COMPLETED"
    assert done["responseType"] == "TARGET_WORKFLOW" and done["workflowId"] == parent_id


async def test_async_signal_completes_the_wait_and_answers_nothing(live) -> None:
    workflow_id = await start(live, "approval", {"note": "x"})
    response = await live.post(f"/api/tasks/{workflow_id}/COMPLETED/signal", json={"why": "y"})
    assert response.status == 200 and await response.read() == b""
    first = (await workflow(live, workflow_id))["tasks"][0]
    assert first["status"] == "COMPLETED" and first["outputData"] == {"why": "y"}


async def test_signalling_a_run_that_waits_for_nothing(live) -> None:
    await register_workflow(live, {"name": "plain", "tasks": [wait_task("t", duration="1 hour")]})
    await register_workflow(
        live, {"name": "no_wait", "tasks": [{"name": "work", "taskReferenceName": "w"}]}
    )
    idle = await start(live, "no_wait")
    response = await live.post(f"/api/tasks/{idle}/COMPLETED/signal/sync", json={})
    assert response.status == 404
    assert (await response.json())["message"] == (
        f"Found no blocked task in workflow {idle} to signal"
    )
    # The fire-and-forget form answers 200 all the same, as Conductor's does.
    assert (await live.post(f"/api/tasks/{idle}/COMPLETED/signal", json={})).status == 200
    assert (await workflow(live, idle))["tasks"][0]["status"] == "SCHEDULED"
    # A timed WAIT is still signalled: Conductor's signal takes any WAIT not yet ended.
    timed = await start(live, "plain")
    response = await live.post(f"/api/tasks/{timed}/COMPLETED/signal/sync", json={"by": "hand"})
    assert response.status == 200 and (await response.json())["status"] == "COMPLETED"


async def test_bad_status_and_strategy_are_refused_and_change_nothing(live) -> None:
    workflow_id = await start(live, "approval", {"note": "x"})
    bad_status = await live.post(f"/api/tasks/{workflow_id}/DONE/signal/sync", json={})
    assert bad_status.status == 400
    assert (await bad_status.json())["message"] == "Invalid task status: DONE"
    bad_strategy = await live.post(
        f"/api/tasks/{workflow_id}/COMPLETED/signal/sync",
        params={"returnStrategy": "EVERYTHING"},
        json={},
    )
    assert bad_strategy.status == 400
    assert (await bad_strategy.json())["validationErrors"][0]["path"] == "returnStrategy"
    response = await live.post(
        "/api/workflow/execute/approval/1", params={"returnStrategy": "nope"}, json={}
    )
    assert response.status == 400
    run = await workflow(live, workflow_id)
    assert [(t["referenceTaskName"], t["status"]) for t in run["tasks"]] == [
        ("first_wait", "IN_PROGRESS")
    ]


async def test_signal_sync_times_out_with_the_run_as_it_is(live) -> None:
    await register_workflow(
        live,
        {
            "name": "then_work",
            "tasks": [wait_task("gate"), {"name": "work", "taskReferenceName": "slow"}],
        },
    )
    workflow_id = await start(live, "then_work")
    response = await live.post(
        f"/api/tasks/{workflow_id}/COMPLETED/signal/sync",
        params={"timeoutMillis": "200"},
        json={"go": 1},
    )
    run = await response.json()
    assert response.status == 200 and run["signalTimeout"] is True
    assert run["status"] == "RUNNING" and run["responseType"] == "TARGET_WORKFLOW"
    assert [t["status"] for t in run["tasks"]] == ["COMPLETED", "SCHEDULED"]


async def test_update_by_reference_sync_answers_the_run(live) -> None:
    workflow_id = await start(live, "approval", {"note": "x"})
    response = await live.post(
        f"/api/tasks/{workflow_id}/first_wait/COMPLETED/sync",
        params={"workerid": "clerk"},
        json={"why": "z"},
    )
    assert response.status == 200
    run = await response.json()
    assert run["workflowId"] == workflow_id and run["status"] == "RUNNING"
    first = run["tasks"][0]
    assert first["status"] == "COMPLETED" and first["outputData"] == {"why": "z"}
    assert first["workerId"] == "clerk"
    again = await live.post(f"/api/tasks/{workflow_id}/first_wait/COMPLETED/sync", json={})
    assert again.status == 404
    assert (await again.json())["message"] == (
        f"Found no running task first_wait of workflow {workflow_id} to update"
    )
