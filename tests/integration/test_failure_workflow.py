"""failureWorkflow: started durably and once when a run fails, times out or is terminated by
the decider (or by an operator who asks for it), with Conductor's input, inside the transaction
that fails the run, so the id in the failed run's output can be read at once."""

from __future__ import annotations

import json

import asyncpg
import pytest

from conductor.executor import Executor
from tests.conftest import fire_timers
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    workflow,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def flows(client):
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("risky", "a", failureWorkflow="cleanup"))
    await register_workflow(client, sequence("cleanup", "undo", task="undo_work"))


async def start_risky(client, **extra) -> str:
    body = {"name": "risky", "input": {"order": 42}, "correlationId": "c-9", **extra}
    response = await client.post("/api/workflow", json=body)
    assert response.status == 200, await response.text()
    return await response.text()


async def failure_timers(db_dsn: str) -> int:
    conn = await asyncpg.connect(db_dsn)
    try:
        query = "SELECT count(*) FROM timer WHERE kind = 'FAILURE_WORKFLOW'"
        count: int = await conn.fetchval(query)
        return count
    finally:
        await conn.close()


async def cleanup_runs(client) -> list[dict]:
    response = await client.get("/api/workflow/search", params={"query": "workflowType = cleanup"})
    return (await response.json())["results"]


async def test_a_failed_run_starts_its_failure_workflow_with_conductors_input(
    client, flows, db_dsn
) -> None:
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (
        await complete(client, task, "FAILED", reasonForIncompletion="card declined")
    ).status == 200
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"
    cleanup_id = failed["output"]["conductor.failure_workflow"]
    assert await failure_timers(db_dsn) == 0  # started in the failing call: no timer needed
    cleanup = await workflow(client, cleanup_id)
    assert cleanup["workflowName"] == "cleanup" and cleanup["status"] == "RUNNING"
    assert cleanup["correlationId"] == "c-9"
    given = cleanup["input"]
    assert given["order"] == 42 and given["workflowId"] == workflow_id
    assert given["failureStatus"] == "FAILED" and given["failureTaskId"] == task["taskId"]
    assert "card declined" in given["reason"]
    assert given["failedWorkflow"]["workflowId"] == workflow_id
    assert given["failedWorkflow"]["status"] == "FAILED"
    [undo] = await poll(client, "undo_work")
    assert undo["workflowInstanceId"] == cleanup_id


async def test_a_timer_for_a_run_already_started_starts_nothing(client, flows, db_dsn) -> None:
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    cleanup_id = (await workflow(client, workflow_id))["output"]["conductor.failure_workflow"]
    # As if a server had also armed the fallback timer for the run it started.
    payload = {"workflowId": cleanup_id, "name": "cleanup", "failureStatus": "FAILED"}
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at, payload)"
            " VALUES ($1, $2, NULL, 'FAILURE_WORKFLOW', 0, $3)",
            f"FAILURE_WORKFLOW:{workflow_id}",
            workflow_id,
            json.dumps(payload),
        )
    finally:
        await conn.close()
    await fire_timers(client)
    assert await failure_timers(db_dsn) == 0
    assert [run["workflowId"] for run in await cleanup_runs(client)] == [cleanup_id]


async def test_when_the_start_fails_unexpectedly_the_timer_starts_it_later(
    client, flows, db_dsn, monkeypatch
) -> None:
    begin = Executor._begin

    async def failing_begin(self, conn, request, depth=0):
        if depth > 0:
            raise RuntimeError("disk on fire")
        return await begin(self, conn, request, depth)

    monkeypatch.setattr(Executor, "_begin", failing_begin)
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"  # the failure itself is never lost
    cleanup_id = failed["output"]["conductor.failure_workflow"]
    assert await failure_timers(db_dsn) == 1
    assert (await client.get(f"/api/workflow/{cleanup_id}")).status == 404
    monkeypatch.setattr(Executor, "_begin", begin)
    await fire_timers(client)
    cleanup = await workflow(client, cleanup_id)
    assert cleanup["input"]["workflowId"] == workflow_id
    assert await failure_timers(db_dsn) == 0


async def test_a_failure_workflow_that_fails_at_once_starts_its_own(client, db_dsn) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("risky", "a", failureWorkflow="cleanup"))
    fork_only = {
        "name": "cleanup",
        "failureWorkflow": "last_resort",
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[{"name": "undo_work", "taskReferenceName": "undo"}]],
            }
        ],
    }
    await register_workflow(client, fork_only)
    await register_workflow(client, sequence("last_resort", "page", task="page_work"))
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    cleanup_id = (await workflow(client, workflow_id))["output"]["conductor.failure_workflow"]
    cleanup = await workflow(client, cleanup_id)
    assert cleanup["status"] == "FAILED"
    assert cleanup["reasonForIncompletion"] == (
        "Fork task definition is not followed by a join task.  Check the blueprint"
    )
    last = await workflow(client, cleanup["output"]["conductor.failure_workflow"])
    assert last["workflowName"] == "last_resort" and last["status"] == "RUNNING"
    assert last["input"]["workflowId"] == cleanup_id
    assert await failure_timers(db_dsn) == 0


async def test_operator_terminate_starts_it_only_when_asked(client, flows) -> None:
    quiet = await start_risky(client)
    assert (await client.delete(f"/api/workflow/{quiet}", params={"reason": "stop"})).status == 200
    assert "conductor.failure_workflow" not in (await workflow(client, quiet))["output"]
    assert await cleanup_runs(client) == []
    loud = await start_risky(client)
    response = await client.delete(
        f"/api/workflow/{loud}", params={"reason": "stop", "triggerFailureWorkflow": "true"}
    )
    assert response.status == 200
    [run] = await cleanup_runs(client)
    cleanup = await workflow(client, run["workflowId"])
    assert cleanup["input"]["failureStatus"] == "TERMINATED"
    assert cleanup["input"]["reason"] == "stop"


async def test_a_timed_out_run_starts_it(client, clock, db_dsn) -> None:
    await register_workflow(
        client,
        sequence(
            "slow", "a", failureWorkflow="cleanup", timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF"
        ),
    )
    await register_workflow(client, sequence("cleanup", "undo", task="undo_work"))
    response = await client.post("/api/workflow", json={"name": "slow", "input": {}})
    workflow_id = await response.text()
    clock.advance(61)
    await fire_timers(client)
    timed_out = await workflow(client, workflow_id)
    assert timed_out["status"] == "TIMED_OUT"
    cleanup = await workflow(client, timed_out["output"]["conductor.failure_workflow"])
    assert cleanup["input"]["failureStatus"] == "TIMED_OUT"
    assert await failure_timers(db_dsn) == 0  # started in the bulk transaction that timed it out


async def test_a_missing_failure_workflow_is_named_in_the_output_as_by_conductor(
    client, db_dsn
) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("orphan", "a", failureWorkflow="nowhere"))
    response = await client.post("/api/workflow", json={"name": "orphan", "input": {}})
    workflow_id = await response.text()
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"
    assert failed["output"]["conductor.failure_workflow"].startswith(
        "Error workflow nowhere failed to start.  reason: No such workflow defined. name=nowhere"
    )
    assert await failure_timers(db_dsn) == 0
