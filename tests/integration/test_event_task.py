"""EVENT tasks publish to the built-in `conductor` queues in the transition that completes them."""

from __future__ import annotations

import pytest

from conductor.api.keys import POOL
from conductor.store import events as event_store
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration


async def test_event_task_publishes_its_message(client) -> None:
    definition = {
        "name": "notify",
        "tasks": [
            {
                "name": "tell",
                "taskReferenceName": "tell",
                "type": "EVENT",
                "sink": "conductor",
                "inputParameters": {"orderId": "${workflow.input.id}"},
            },
            {
                "name": "named",
                "taskReferenceName": "named",
                "type": "EVENT",
                "sink": "conductor:billing",
            },
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "notify", {"id": 42})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    output = run["tasks"][0]["outputData"]
    assert output["orderId"] == 42 and output["event_produced"] == "conductor:notify:tell"
    assert output["workflowInstanceId"] == workflow_id
    assert run["tasks"][1]["outputData"]["event_produced"] == "conductor:notify:billing"
    async with client.server.app[POOL].acquire() as conn:
        [message] = await event_store.messages(conn, "conductor:notify:tell")
    assert message.message_id == run["tasks"][0]["taskId"]
    assert message.payload["orderId"] == 42


@pytest.mark.parametrize(
    ("sink", "reason"),
    [
        ("sqs:orders", "{loading}Unknown queue type sqs"),
        ("kafka:topic", "{loading}Unknown queue type kafka"),
        ("nowhere", "{loading}Illegal event nowhere"),
        ("conductors", "Invalid / Unsupported sink specified: conductors"),
    ],
)
async def test_a_sink_with_no_queue_here_is_stored_and_fails_the_task_as_in_conductor(
    client, sink, reason
) -> None:
    definition = {
        "name": "other_sink",
        "tasks": [{"name": "tell", "taskReferenceName": "tell", "type": "EVENT", "sink": sink}],
    }
    await register_workflow(client, definition)
    run = await workflow(client, await start(client, "other_sink", {}))
    assert run["status"] == "FAILED"
    [task] = run["tasks"]
    assert task["status"] == "FAILED"
    loading = f"Error loading queue:{sink}, for task:{task['taskId']}, error: "
    assert task["reasonForIncompletion"] == reason.format(loading=loading)


async def test_an_event_task_without_a_sink_is_refused(client) -> None:
    definition = {
        "name": "no_sink",
        "tasks": [{"name": "tell", "taskReferenceName": "tell", "type": "EVENT"}],
    }
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    assert (await response.json())["validationErrors"][0]["path"].endswith(".sink")


async def test_kafka_publish_is_refused(client) -> None:
    definition = {
        "name": "kafka",
        "tasks": [
            {
                "name": "k",
                "taskReferenceName": "k",
                "type": "KAFKA_PUBLISH",
                "inputParameters": {"kafka_request": {"topic": "t", "value": "v"}},
            }
        ],
    }
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    assert "not supported" in (await response.json())["validationErrors"][0]["message"]
