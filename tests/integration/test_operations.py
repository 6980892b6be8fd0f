"""Operator actions through the REST API: success paths and Conductor's refusals, status codes and
messages. A refused action must write nothing (checked with row counts)."""

from __future__ import annotations

import pytest

from tests.integration.api import (
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

UNKNOWN = "00000000-0000-0000-0000-000000000000"


async def setup_flow(client, name: str = "ops", **extra) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence(name, "a", "b", "c", **extra))


async def run_to_failure(client, name: str = "ops") -> tuple[str, dict]:
    """A workflow whose first task completed and whose second failed (no retries left)."""
    workflow_id = await start(client, name)
    [a] = await poll(client, "work")
    assert (await complete(client, a)).status == 200
    [b] = await poll(client, "work")
    assert (await complete(client, b, "FAILED", reasonForIncompletion="boom")).status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    return workflow_id, run


async def error(response) -> tuple[int, str]:
    body = await response.json()
    assert body["status"] == response.status
    return response.status, body["message"]


def refs_and_statuses(run: dict) -> list[tuple[str, str]]:
    return [(t["referenceTaskName"], t["status"]) for t in run["tasks"]]


# -- pause and resume ---------------------------------------------------------------------------


async def test_a_task_completed_while_paused_schedules_nothing_until_resume(client) -> None:
    await setup_flow(client)
    workflow_id = await start(client, "ops")
    [a] = await poll(client, "work")
    assert (await client.put(f"/api/workflow/{workflow_id}/pause", json={})).status == 200
    assert (await workflow(client, workflow_id))["status"] == "PAUSED"
    assert (await complete(client, a)).status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "PAUSED"
    assert refs_and_statuses(run) == [("a", "COMPLETED")]
    assert await poll(client, "work") == []
    # Pausing again is a no-op.
    assert (await client.put(f"/api/workflow/{workflow_id}/pause", json={})).status == 200
    assert (await client.put(f"/api/workflow/{workflow_id}/resume", json={})).status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING" and run["lastRetriedTime"] > 0
    assert refs_and_statuses(run) == [("a", "COMPLETED"), ("b", "SCHEDULED")]
    assert len(await poll(client, "work")) == 1


async def test_pause_and_resume_refusals(client) -> None:
    await setup_flow(client)
    workflow_id, _ = await run_to_failure(client)
    before = await row_counts(client)
    response = await client.put(f"/api/workflow/{workflow_id}/pause", json={})
    assert await error(response) == (
        409,
        f"Workflow ops.1/{workflow_id} has ended, status cannot be updated.",
    )
    running = await start(client, "ops")
    before = await row_counts(client)
    response = await client.put(f"/api/workflow/{running}/resume", json={})
    assert await error(response) == (
        500,
        f"The workflow {running} is not PAUSED so cannot resume. Current status is RUNNING",
    )
    assert await row_counts(client) == before
    for action in ("pause", "resume"):
        response = await client.put(f"/api/workflow/{UNKNOWN}/{action}", json={})
        assert await error(response) == (404, f"Workflow with id: {UNKNOWN} not found.")


# -- skip task and reset callbacks --------------------------------------------------------------


async def test_skip_task_jumps_over_the_reference_with_the_given_output(client) -> None:
    await setup_flow(client)
    workflow_id = await start(client, "ops")
    response = await client.put(
        f"/api/workflow/{workflow_id}/skiptask/b", json={"taskOutput": {"skipped": True}}
    )
    assert response.status == 200, await response.text()
    [a] = await poll(client, "work")
    assert (await complete(client, a)).status == 200
    run = await workflow(client, workflow_id)
    assert refs_and_statuses(run) == [("a", "COMPLETED"), ("b", "SKIPPED"), ("c", "SCHEDULED")]
    assert run["tasks"][1]["outputData"] == {"skipped": True}
    [c] = await poll(client, "work")
    assert c["referenceTaskName"] == "c"
    assert (await complete(client, c)).status == 200
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_skip_task_refusals(client) -> None:
    await setup_flow(client)
    workflow_id = await start(client, "ops")
    before = await row_counts(client)
    response = await client.put(f"/api/workflow/{workflow_id}/skiptask/nope", json={})
    assert await error(response) == (
        500,
        "The task referenced by nope does not exist in the WorkflowDefinition ops",
    )
    response = await client.put(f"/api/workflow/{workflow_id}/skiptask/a", json={})
    assert await error(response) == (
        500,
        "The task referenced a has already been processed, cannot be skipped",
    )
    assert await row_counts(client) == before
    assert (await client.put(f"/api/workflow/{workflow_id}/pause", json={})).status == 200
    response = await client.put(f"/api/workflow/{workflow_id}/skiptask/b", json={})
    assert await error(response) == (
        500,
        f"The workflow {workflow_id} is not running so the task referenced by b cannot be skipped",
    )
    response = await client.put(f"/api/workflow/{UNKNOWN}/skiptask/b", json={})
    assert (await error(response))[0] == 404


async def test_reset_callbacks_makes_a_delayed_task_pollable_now(client) -> None:
    await setup_flow(client)
    workflow_id = await start(client, "ops")
    [a] = await poll(client, "work")
    response = await complete(client, a, "IN_PROGRESS", callbackAfterSeconds=3600)
    assert response.status == 200
    assert await poll(client, "work") == []
    response = await client.post(f"/api/workflow/{workflow_id}/resetcallbacks", json={})
    assert response.status == 204
    [again] = await poll(client, "work")
    assert again["taskId"] == a["taskId"] and again["callbackAfterSeconds"] == 0
    failed, _ = await run_to_failure(client)
    response = await client.post(f"/api/workflow/{failed}/resetcallbacks", json={})
    assert await error(response) == (409, "Workflow is in terminal state. Status = FAILED")


# -- restart, retry, rerun ----------------------------------------------------------------------


async def test_restart_runs_the_workflow_again_from_the_start(client) -> None:
    await setup_flow(client)
    workflow_id, failed = await run_to_failure(client)
    response = await client.post(f"/api/workflow/{workflow_id}/restart", json={})
    assert response.status == 204, await response.text()
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING" and run.get("reasonForIncompletion") is None
    assert refs_and_statuses(run) == [("a", "SCHEDULED")]
    assert run["createTime"] >= failed["createTime"]
    assert [t["referenceTaskName"] for t in await poll(client, "work")] == ["a"]


async def test_restart_with_the_latest_definition(client) -> None:
    await setup_flow(client)
    workflow_id, _ = await run_to_failure(client)
    await register_workflow(client, {**sequence("ops", "x"), "version": 2})
    response = await client.post(
        f"/api/workflow/{workflow_id}/restart", params={"useLatestDefinitions": "true"}, json={}
    )
    assert response.status == 204, await response.text()
    run = await workflow(client, workflow_id)
    assert run["workflowVersion"] == 2
    assert refs_and_statuses(run) == [("x", "SCHEDULED")]


async def test_restart_refusals(client) -> None:
    await setup_flow(client, restartable=False)
    running = await start(client, "ops")
    before = await row_counts(client)
    response = await client.post(f"/api/workflow/{running}/restart", json={})
    assert await error(response) == (
        409,
        f"Workflow: ops.1/{running}.RUNNING is not in terminal state, unable to restart.",
    )
    assert await row_counts(client) == before
    done = await start(client, "ops")
    for _ in range(3):
        [task] = [t for t in await poll(client, "work", count=5) if t["workflowInstanceId"] == done]
        await complete(client, task)
    assert (await workflow(client, done))["status"] == "COMPLETED"
    response = await client.post(f"/api/workflow/{done}/restart", json={})
    assert await error(response) == (404, f"Workflow: ops.1/{done}.COMPLETED is non-restartable")
    response = await client.post(f"/api/workflow/{UNKNOWN}/restart", json={})
    assert (await error(response))[0] == 404


async def test_retry_runs_a_fresh_attempt_of_the_failed_task(client) -> None:
    await setup_flow(client)
    workflow_id, _ = await run_to_failure(client)
    response = await client.post(f"/api/workflow/{workflow_id}/retry", json={})
    assert response.status == 204, await response.text()
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING" and run["lastRetriedTime"] > 0
    assert refs_and_statuses(run) == [("a", "COMPLETED"), ("b", "FAILED"), ("b", "SCHEDULED")]
    assert run["tasks"][2]["retryCount"] == 1 and run["tasks"][1]["retried"] is True
    [b] = await poll(client, "work")
    assert b["referenceTaskName"] == "b"
    assert (await complete(client, b)).status == 200
    [c] = await poll(client, "work")
    assert (await complete(client, c)).status == 200
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_retry_refusals(client) -> None:
    await setup_flow(client)
    running = await start(client, "ops")
    response = await client.post(f"/api/workflow/{running}/retry", json={})
    assert await error(response) == (404, "Workflow is still running.  status=RUNNING")
    assert (await client.delete(f"/api/workflow/{running}", params={"reason": "x"})).status == 200
    # Terminated: its canceled task is retried.
    assert (await client.post(f"/api/workflow/{running}/retry", json={})).status == 204
    done = await start(client, "ops")
    for _ in range(3):
        [task] = [t for t in await poll(client, "work", count=5) if t["workflowInstanceId"] == done]
        await complete(client, task)
    before = await row_counts(client)
    response = await client.post(f"/api/workflow/{done}/retry", json={})
    assert await error(response) == (
        409,
        "There are no retryable tasks! Use restart if you want to attempt entire workflow "
        "execution again.",
    )
    assert await row_counts(client) == before


async def test_rerun_from_a_task_with_new_input(client) -> None:
    await setup_flow(client)
    workflow_id, failed = await run_to_failure(client)
    a_id = failed["tasks"][0]["taskId"]
    response = await client.post(
        f"/api/workflow/{workflow_id}/rerun",
        json={
            "reRunFromWorkflowId": workflow_id,
            "reRunFromTaskId": a_id,
            "taskInput": {"again": 1},
            "workflowInput": {"new": True},
            "correlationId": "second",
        },
    )
    assert response.status == 200
    assert await response.text() == workflow_id
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING" and run["correlationId"] == "second"
    assert run["input"] == {"new": True}
    assert refs_and_statuses(run) == [("a", "SCHEDULED")]
    [a] = await poll(client, "work")
    assert a["taskId"] == a_id and a["inputData"] == {"again": 1}


async def test_rerun_whole_workflow_and_refusals(client) -> None:
    await setup_flow(client)
    workflow_id, _ = await run_to_failure(client)
    response = await client.post(f"/api/workflow/{workflow_id}/rerun", json={})
    assert response.status == 200
    assert refs_and_statuses(await workflow(client, workflow_id)) == [("a", "SCHEDULED")]
    before = await row_counts(client)
    response = await client.post(f"/api/workflow/{workflow_id}/rerun", json={})
    assert await error(response) == (
        409,
        f"Workflow: ops.1/{workflow_id}.RUNNING is not in terminal state, unable to rerun.",
    )
    other, _ = await run_to_failure(client)
    response = await client.post(
        f"/api/workflow/{other}/rerun", json={"reRunFromTaskId": "missing"}
    )
    assert await error(response) == (400, "Task missing not found")
    response = await client.post(f"/api/workflow/{other}/rerun", json={"taskInput": "x"})
    assert (await error(response))[0] == 400
    assert (await workflow(client, other))["status"] == "FAILED"
    assert (await row_counts(client))["task"] == before["task"] + 2


async def test_terminate_remove(client) -> None:
    await setup_flow(client)
    workflow_id = await start(client, "ops")
    response = await client.delete(
        f"/api/workflow/{workflow_id}/terminate-remove", params={"reason": "gone"}
    )
    assert response.status == 200
    assert (await client.get(f"/api/workflow/{workflow_id}")).status == 404
    assert await poll(client, "work") == []
    response = await client.delete(f"/api/workflow/{UNKNOWN}/terminate-remove")
    assert (await error(response))[0] == 404


# -- bulk -----------------------------------------------------------------------------------------


async def test_bulk_actions_report_each_id(client) -> None:
    await setup_flow(client)
    failed, _ = await run_to_failure(client)
    ids = [await start(client, "ops") for _ in range(3)]
    body = [*ids, failed, UNKNOWN]
    response = await client.put("/api/workflow/bulk/pause", json=body)
    assert response.status == 200
    result = await response.json()
    assert result["bulkSuccessfulResults"] == ids
    assert set(result["bulkErrorResults"]) == {failed, UNKNOWN}
    assert result["bulkErrorResults"][UNKNOWN] == f"Workflow with id: {UNKNOWN} not found."
    for workflow_id in ids:
        assert (await workflow(client, workflow_id))["status"] == "PAUSED"
    result = await (await client.put("/api/workflow/bulk/resume", json=ids)).json()
    assert result == {"bulkErrorResults": {}, "bulkSuccessfulResults": ids}
    result = await (
        await client.post("/api/workflow/bulk/terminate", params={"reason": "bulk"}, json=ids)
    ).json()
    assert result["bulkSuccessfulResults"] == ids
    run = await workflow(client, ids[0])
    assert run["status"] == "TERMINATED" and run["reasonForIncompletion"] == "bulk"
    result = await (await client.post("/api/workflow/bulk/retry", json=[*ids, failed])).json()
    assert result["bulkSuccessfulResults"] == [*ids, failed]
    result = await (await client.post("/api/workflow/bulk/restart", json=ids)).json()
    assert set(result["bulkErrorResults"]) == set(ids)  # running again after the retry
    result = await (await client.delete("/api/workflow/bulk/terminate-remove", json=ids)).json()
    assert result["bulkSuccessfulResults"] == ids
    assert (await client.get(f"/api/workflow/{ids[0]}")).status == 404


async def test_bulk_search_returns_each_found_workflow(client) -> None:
    await setup_flow(client)
    ids = [await start(client, "ops") for _ in range(2)]
    response = await client.post("/api/workflow/bulk/search", json=[*ids, UNKNOWN])
    assert response.status == 200
    result = await response.json()
    assert [w["workflowId"] for w in result["bulkSuccessfulResults"]] == ids
    assert all(len(w["tasks"]) == 1 for w in result["bulkSuccessfulResults"])
    assert result["bulkErrorResults"] == {UNKNOWN: f"Workflow with id: {UNKNOWN} not found."}
    result = await (
        await client.post(
            "/api/workflow/bulk/search", params={"includeTasks": "false"}, json=ids[:1]
        )
    ).json()
    [only] = result["bulkSuccessfulResults"]
    assert only["workflowId"] == ids[0] and only["tasks"] == []
    assert (await client.post("/api/workflow/bulk/search", json=[])).status == 400


@pytest.mark.parametrize("body", [None, [], {"ids": ["x"]}, [1, 2], ["x"] * 1001 + [""]], ids=str)
async def test_bulk_refuses_bad_id_lists(client, body) -> None:
    response = await client.put("/api/workflow/bulk/pause", json=body)
    assert response.status == 400
    assert "message" in await response.json()
    too_many = [f"id-{i}" for i in range(1001)]
    response = await client.post("/api/workflow/bulk/retry", json=too_many)
    assert response.status == 400
    body_json = await response.json()
    assert "Cannot process more than 1000 workflows" in str(body_json)
