"""Retry delays and every timeout kind, end to end through the API, the store and the timer service.

Time is a ManualClock: tests move it and run the timer service once, so nothing sleeps.
"""

from __future__ import annotations

import pytest

from tests.conftest import fire_timers
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    workflow,
)

pytestmark = pytest.mark.integration


async def _failed_then_retry_visible_after(client, clock, task_def, failures: int) -> list[float]:
    """Fail the task `failures` times; return the observed delay before each retry was pollable."""
    await register_task_defs(client, {"name": "work", **task_def})
    await register_workflow(client, sequence("wf", "a"))
    await start(client, "wf")
    delays = []
    [task] = await poll(client, "work")
    for _ in range(failures):
        await complete(client, task, status="FAILED", reasonForIncompletion="boom")
        waited = 0.0
        while not (found := await poll(client, "work")):
            clock.advance(0.5)
            waited += 0.5
            await fire_timers(client)
            assert waited < 1000, "retry never became pollable"
        [task] = found
        delays.append(waited)
    return delays


@pytest.mark.parametrize(
    ("task_def", "expected"),
    [
        ({"retryLogic": "FIXED", "retryDelaySeconds": 3}, [3, 3, 3]),
        (
            {"retryLogic": "LINEAR_BACKOFF", "retryDelaySeconds": 2, "backoffScaleFactor": 2},
            [4, 8, 12],
        ),
        ({"retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 2}, [2, 4, 8]),
        (
            {
                "retryLogic": "EXPONENTIAL_BACKOFF",
                "retryDelaySeconds": 2,
                "maxRetryDelaySeconds": 5,
            },
            [2, 4, 5],
        ),
    ],
)
async def test_retry_delays_per_logic(client, clock, task_def, expected) -> None:
    delays = await _failed_then_retry_visible_after(
        client, clock, {"retryCount": 3, **task_def}, failures=3
    )
    assert delays == expected


async def test_retry_attempt_fields_and_final_failure(client, clock) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 1, "retryDelaySeconds": 0})
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    [first] = await poll(client, "work")
    await complete(client, first, status="FAILED", reasonForIncompletion="first failure")
    [second] = await poll(client, "work")
    assert second["retryCount"] == 1 and second["retriedTaskId"] == first["taskId"]
    await complete(client, second, status="FAILED", reasonForIncompletion="second failure")
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert run["reasonForIncompletion"] == (
        f"Task {second['taskId']} failed with status: FAILED and reason: 'second failure'"
    )
    assert run["failedReferenceTaskNames"] == ["a"] and run["failedTaskNames"] == ["work"]
    assert [t["retried"] for t in run["tasks"]] == [True, False]


async def test_terminal_error_is_not_retried(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 3, "retryDelaySeconds": 0})
    await register_workflow(client, sequence("wf", "a", "b"))
    workflow_id = await start(client, "wf")
    [task] = await poll(client, "work")
    await complete(client, task, status="FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="fatal")
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED" and len(run["tasks"]) == 1
    assert run["tasks"][0]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert await poll(client, "work") == []


async def test_response_timeout_retries_the_task(client, clock) -> None:
    await register_task_defs(
        client,
        {"name": "work", "retryCount": 1, "retryDelaySeconds": 0, "responseTimeoutSeconds": 30},
    )
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    [lost] = await poll(client, "work")  # the worker dies holding it
    clock.advance(29)
    assert await fire_timers(client) == 0
    clock.advance(1)
    assert await fire_timers(client) == 1
    [retry] = await poll(client, "work")
    assert retry["retryCount"] == 1
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "TIMED_OUT"
    assert run["tasks"][0]["reasonForIncompletion"].startswith("responseTimeout: 30 exceeded")
    late = await complete(client, lost, output={"late": True})  # the old worker comes back
    assert late.status == 200
    await complete(client, retry, output={"ok": True})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED" and run["output"] == {"ok": True}
    assert run["tasks"][0]["status"] == "TIMED_OUT"


async def test_extend_lease_keeps_the_task(client, clock) -> None:
    await register_task_defs(client, {"name": "work", "responseTimeoutSeconds": 10})
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    [task] = await poll(client, "work")
    for _ in range(3):
        clock.advance(8)
        response = await complete(client, task, status="IN_PROGRESS", extendLease=True)
        assert response.status == 200
        await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "IN_PROGRESS"


@pytest.mark.parametrize(
    ("policy", "task_status", "workflow_status"),
    [
        ("RETRY", "TIMED_OUT", "RUNNING"),
        ("TIME_OUT_WF", "TIMED_OUT", "TIMED_OUT"),
        ("ALERT_ONLY", "IN_PROGRESS", "RUNNING"),
    ],
)
async def test_task_timeout_policies(client, clock, policy, task_status, workflow_status) -> None:
    await register_task_defs(
        client,
        {
            "name": "work",
            "timeoutSeconds": 60,
            "responseTimeoutSeconds": 60,
            "timeoutPolicy": policy,
            "retryCount": 1,
            "retryDelaySeconds": 0,
        },
    )
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    [task] = await poll(client, "work")
    clock.advance(30)
    await complete(client, task, status="IN_PROGRESS", extendLease=True)  # keep the lease alive
    clock.advance(30)
    await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == task_status
    assert run["status"] == workflow_status
    if policy == "RETRY":
        assert len(run["tasks"]) == 2 and run["tasks"][1]["status"] == "SCHEDULED"


async def test_poll_timeout(client, clock) -> None:
    await register_task_defs(
        client, {"name": "work", "pollTimeoutSeconds": 20, "timeoutPolicy": "TIME_OUT_WF"}
    )
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    clock.advance(20)
    await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "TIMED_OUT"
    assert run["tasks"][0]["reasonForIncompletion"].startswith(
        "Task poll timed out after 20 seconds"
    )
    assert await poll(client, "work") == []


async def test_workflow_timeout(client, clock) -> None:
    await register_workflow(
        client, sequence("wf", "a", timeoutSeconds=120, timeoutPolicy="TIME_OUT_WF")
    )
    workflow_id = await start(client, "wf")
    clock.advance(119)
    await fire_timers(client)
    assert (await workflow(client, workflow_id))["status"] == "RUNNING"
    clock.advance(1)
    await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "TIMED_OUT"
    assert run["tasks"][0]["status"] == "CANCELED"


async def test_callback_after_seconds_requeues_the_task_later(client, clock) -> None:
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    [task] = await poll(client, "work")
    await complete(client, task, status="IN_PROGRESS", callbackAfterSeconds=45, output={"step": 1})
    clock.advance(44)
    await fire_timers(client)
    assert await poll(client, "work") == []
    clock.advance(1)
    await fire_timers(client)
    [again] = await poll(client, "work")
    assert again["taskId"] == task["taskId"] and again["pollCount"] == 2
    assert again["outputData"] == {"step": 1}
    assert (await workflow(client, workflow_id))["tasks"][0]["startTime"] == task["startTime"]


async def test_timers_survive_a_restart(client, clock, db_dsn, aiohttp_client) -> None:
    """Timers live in PostgreSQL: a new server on the same database fires what the old one armed."""
    from conductor.app import create_app
    from conductor.config import Settings

    await register_task_defs(
        client,
        {"name": "work", "retryCount": 1, "retryDelaySeconds": 0, "responseTimeoutSeconds": 5},
    )
    await register_workflow(client, sequence("wf", "a"))
    workflow_id = await start(client, "wf")
    await poll(client, "work")
    await client.close()
    clock.advance(3600)  # down for an hour
    restarted = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, run_background_services=False), clock=clock)
    )
    assert await fire_timers(restarted) == 1
    [retry] = await poll(restarted, "work")
    assert retry["retryCount"] == 1 and retry["workflowInstanceId"] == workflow_id
