"""Virtual time (conductor.testing): a subscription billed monthly for two years, in seconds."""

from __future__ import annotations

import time

import pytest

from conductor.testing import VirtualTime
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000

BILLING = {
    "name": "subscription",
    "tasks": [
        {
            "name": "months",
            "taskReferenceName": "months",
            "type": "DO_WHILE",
            "loopCondition": "$.months['iteration'] < $.cycles",
            "inputParameters": {"cycles": "${workflow.input.cycles}", "keepLastN": 2},
            "loopOver": [
                {
                    "name": "wait_month",
                    "taskReferenceName": "wait_month",
                    "type": "WAIT",
                    "inputParameters": {"duration": "30 days"},
                },
                {
                    "name": "charge",
                    "taskReferenceName": "charge",
                    "type": "INLINE",
                    "inputParameters": {
                        "expression": "$.n % 6 == 0 ? 'declined' : 'paid'",
                        "n": "${months.output.iteration}",
                    },
                },
                {
                    "name": "outcome",
                    "taskReferenceName": "outcome",
                    "type": "SWITCH",
                    "evaluatorType": "value-param",
                    "expression": "result",
                    "inputParameters": {"result": "${charge.output.result}"},
                    "decisionCases": {
                        "declined": [
                            {
                                "name": "dunning",
                                "taskReferenceName": "dunning",
                                "type": "SET_VARIABLE",
                                "inputParameters": {"lastDeclined": "${months.output.iteration}"},
                            }
                        ]
                    },
                    "defaultCase": [{"name": "ok", "taskReferenceName": "ok", "type": "NOOP"}],
                },
            ],
        }
    ],
    "outputParameters": {
        "cycles": "${months.output.iteration}",
        "lastDeclined": "${workflow.variables.lastDeclined}",
    },
}


async def test_twenty_four_monthly_cycles_in_seconds(client, clock) -> None:
    virtual = VirtualTime(client.server.app)
    await register_workflow(client, BILLING)
    began_virtual = clock.now_ms()
    workflow_id = await start(client, "subscription", {"cycles": 24})

    async def finished() -> bool:
        return (await workflow(client, workflow_id))["status"] != "RUNNING"

    began = time.monotonic()
    assert await virtual.run(until=finished)
    elapsed = time.monotonic() - began
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"cycles": 24, "lastDeclined": 24}
    assert clock.now_ms() - began_virtual == 24 * 30 * DAY_MS  # two years passed, virtually
    assert virtual.jumps == 24
    assert elapsed < 10, f"24 cycles took {elapsed:.1f} s of real time"


async def test_virtual_time_runs_schedules_too(client, clock) -> None:
    await register_workflow(
        client,
        {"name": "invoice", "tasks": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}]},
    )
    response = await client.post(
        "/api/scheduler/schedules",
        json={
            "name": "monthly",
            "cronExpression": "0 0 9 1 * ?",
            "zoneId": "Europe/Oslo",
            "startWorkflowRequest": {"name": "invoice"},
            "scheduleEndTime": clock.now_ms() + 370 * DAY_MS,
        },
    )
    assert response.status == 200
    virtual = VirtualTime(client.server.app)
    assert await virtual.run() is False  # ran until the schedule ended
    executions = await (
        await client.get(
            "/api/scheduler/search/executions", params={"scheduleName": "monthly", "size": 50}
        )
    ).json()
    assert len(executions["results"]) in (12, 13)  # the first of each month within 370 days
    assert all(r["state"] == "EXECUTED" for r in executions["results"])


async def test_dev_server_virtual_clock_lets_long_waits_pass(db_dsn, aiohttp_client) -> None:
    from conductor.app import create_app
    from conductor.clock import JumpingClock
    from conductor.config import Settings

    clock = JumpingClock()
    live = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, virtual_clock=True), clock=clock)
    )
    await register_workflow(
        live,
        {
            "name": "slow",
            "tasks": [
                {
                    "name": "wait",
                    "taskReferenceName": "wait",
                    "type": "WAIT",
                    "inputParameters": {"duration": "90 days"},
                },
                {"name": "work", "taskReferenceName": "after"},
            ],
        },
    )
    began = clock.now_ms()
    workflow_id = await start(live, "slow")
    response = await live.get("/api/tasks/poll/batch/work", params={"count": 1, "timeout": 5000})
    [task] = await response.json()  # a real long poll, answered once the clock has jumped
    assert task["workflowInstanceId"] == workflow_id
    assert clock.now_ms() - began >= 90 * DAY_MS
