"""failureWorkflow: started durably and once when a run fails, times out or is terminated by
the decider (or by an operator who asks for it), with Conductor's input."""

from __future__ import annotations

import asyncpg
import pytest

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


async def cleanup_runs(client) -> list[dict]:
    response = await client.get("/api/workflow/search", params={"query": "workflowType = cleanup"})
    return (await response.json())["results"]


async def test_a_failed_run_starts_its_failure_workflow_with_conductors_input(
    client, flows
) -> None:
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (
        await complete(client, task, "FAILED", reasonForIncompletion="card declined")
    ).status == 200
    failed = await workflow(client, workflow_id)
    assert failed["status"] == "FAILED"
    cleanup_id = failed["output"]["conductor.failure_workflow"]
    await fire_timers(client)
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


async def test_firing_the_timer_twice_starts_one_run(client, flows, db_dsn) -> None:
    workflow_id = await start_risky(client)
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    conn = await asyncpg.connect(db_dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM timer WHERE kind = 'FAILURE_WORKFLOW'")
        assert row is not None and row["workflow_id"] == workflow_id
        await fire_timers(client)
        # As if a server died after starting the run but before dropping the timer.
        await conn.execute(
            "INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at, payload)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            *[
                row[k]
                for k in ("timer_key", "workflow_id", "task_id", "kind", "fire_at", "payload")
            ],
        )
        await fire_timers(client)
        assert (
            await conn.fetchval("SELECT count(*) FROM timer WHERE kind = 'FAILURE_WORKFLOW'") == 0
        )
    finally:
        await conn.close()
    assert len(await cleanup_runs(client)) == 1


async def test_operator_terminate_starts_it_only_when_asked(client, flows) -> None:
    quiet = await start_risky(client)
    assert (await client.delete(f"/api/workflow/{quiet}", params={"reason": "stop"})).status == 200
    await fire_timers(client)
    assert "conductor.failure_workflow" not in (await workflow(client, quiet))["output"]
    assert await cleanup_runs(client) == []
    loud = await start_risky(client)
    response = await client.delete(
        f"/api/workflow/{loud}", params={"reason": "stop", "triggerFailureWorkflow": "true"}
    )
    assert response.status == 200
    await fire_timers(client)
    [run] = await cleanup_runs(client)
    cleanup = await workflow(client, run["workflowId"])
    assert cleanup["input"]["failureStatus"] == "TERMINATED"
    assert cleanup["input"]["reason"] == "stop"


async def test_a_timed_out_run_starts_it(client, clock) -> None:
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


async def test_a_missing_failure_workflow_is_dropped_quietly(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("orphan", "a", failureWorkflow="nowhere"))
    response = await client.post("/api/workflow", json={"name": "orphan", "input": {}})
    workflow_id = await response.text()
    [task] = await poll(client, "work")
    assert (await complete(client, task, "FAILED")).status == 200
    assert await fire_timers(client) == 1
    assert await fire_timers(client) == 0
    assert (await workflow(client, workflow_id))["status"] == "FAILED"
