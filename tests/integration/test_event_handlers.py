"""Event handlers: the /api/event API, and EVENT task messages running handler actions."""

from __future__ import annotations

import asyncpg
import pytest

from conductor.app import EVENT_PROCESSOR
from tests.integration.api import register_workflow, sequence, start, workflow

pytestmark = pytest.mark.integration

EVENT = "conductor:emitter:notify"


def handler(name: str = "on_notify", **extra) -> dict:
    return {
        "name": name,
        "event": EVENT,
        "condition": "$.orderId > 5",
        "actions": [
            {
                "action": "start_workflow",
                "start_workflow": {"name": "follow", "input": {"order": "${orderId}"}},
            },
            {
                "action": "complete_task",
                "complete_task": {
                    "workflowId": "${waiter}",
                    "taskRefName": "hold",
                    "output": {"by": "event", "order": "${orderId}"},
                },
            },
        ],
        **extra,
    }


@pytest.fixture
async def flows(client):
    await register_workflow(
        client,
        {
            "name": "emitter",
            "version": 1,
            "tasks": [
                {
                    "name": "notify",
                    "taskReferenceName": "notify",
                    "type": "EVENT",
                    "sink": "conductor",
                    "inputParameters": {
                        "orderId": "${workflow.input.orderId}",
                        "waiter": "${workflow.input.waiter}",
                    },
                }
            ],
        },
    )
    await register_workflow(
        client,
        {
            "name": "waiter",
            "version": 1,
            "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
        },
    )
    await register_workflow(client, sequence("follow", "step"))


async def follow_runs(client) -> list[dict]:
    response = await client.get("/api/workflow/search", params={"query": "workflowType = follow"})
    return (await response.json())["results"]


async def test_handler_api(client) -> None:
    assert (await client.post("/api/event", json=handler())).status == 200
    response = await client.post("/api/event", json=handler())
    assert response.status == 409
    listed = await (await client.get("/api/event")).json()
    assert [h["name"] for h in listed] == ["on_notify"] and listed[0]["active"] is True
    assert len(await (await client.get(f"/api/event/{EVENT}")).json()) == 1
    assert (await client.put("/api/event", json=handler(active=False))).status == 200
    assert await (await client.get(f"/api/event/{EVENT}")).json() == []
    everything = await client.get(f"/api/event/{EVENT}", params={"activeOnly": "false"})
    assert len(await everything.json()) == 1
    assert (await client.put("/api/event", json=handler("missing"))).status == 404
    assert (await client.delete("/api/event/on_notify")).status == 200
    assert (await client.delete("/api/event/on_notify")).status == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "event": EVENT, "actions": []},
        {"name": "x", "event": EVENT, "actions": [{"action": "explode", "explode": {}}]},
        {"name": "x", "event": EVENT, "actions": [{"action": "start_workflow"}]},
        {"event": EVENT, "actions": [{"action": "fail_task", "fail_task": {}}]},
    ],
    ids=str,
)
async def test_bad_handlers_are_refused(client, bad) -> None:
    response = await client.post("/api/event", json=bad)
    assert response.status == 400
    assert await (await client.get("/api/event")).json() == []


async def test_an_event_task_message_runs_the_actions_once(client, flows, db_dsn) -> None:
    assert (await client.post("/api/event", json=handler())).status == 200
    waiter = await start(client, "waiter")
    emitter = await start(client, "emitter", {"orderId": 7, "waiter": waiter})
    assert (await workflow(client, emitter))["status"] == "COMPLETED"
    conn = await asyncpg.connect(db_dsn)
    try:
        message = await conn.fetchrow("SELECT * FROM event_message")
        assert message["queue"] == EVENT
        processor = client.server.app[EVENT_PROCESSOR]
        assert await processor.run_once() == 1
        assert await processor.run_once() == 0
        # The same message again (a crash after the actions, before its delete): no new run.
        await conn.execute(
            "INSERT INTO event_message (queue, message_id, payload, created_time)"
            " VALUES ($1, $2, $3, $4)",
            message["queue"],
            message["message_id"],
            message["payload"],
            message["created_time"],
        )
        assert await processor.run_once() == 1
    finally:
        await conn.close()
    [run] = await follow_runs(client)
    assert (await workflow(client, run["workflowId"]))["input"] == {"order": 7}
    held = await workflow(client, waiter)
    assert held["status"] == "COMPLETED"
    assert held["tasks"][0]["outputData"] == {"by": "event", "order": 7}


async def test_a_false_condition_skips_the_actions(client, flows) -> None:
    assert (await client.post("/api/event", json=handler())).status == 200
    waiter = await start(client, "waiter")
    await start(client, "emitter", {"orderId": 3, "waiter": waiter})
    assert await client.server.app[EVENT_PROCESSOR].run_once() == 1
    assert await follow_runs(client) == []
    assert (await workflow(client, waiter))["status"] == "RUNNING"


async def test_update_workflow_variables(client, flows) -> None:
    update = {
        "name": "remember",
        "event": EVENT,
        "actions": [
            {
                "action": "update_workflow_variables",
                "update_workflow_variables": {
                    "workflowId": "${waiter}",
                    "variables": {"lastOrder": "${orderId}", "orders": ["${orderId}"]},
                    "appendArray": True,
                },
            }
        ],
    }
    assert (await client.post("/api/event", json=update)).status == 200
    waiter = await start(client, "waiter")
    for order in (11, 12):
        await start(client, "emitter", {"orderId": order, "waiter": waiter})
    assert await client.server.app[EVENT_PROCESSOR].run_once() == 2
    run = await workflow(client, waiter)
    assert run["variables"] == {"lastOrder": 12, "orders": [11, 12]}
    assert run["status"] == "RUNNING"
