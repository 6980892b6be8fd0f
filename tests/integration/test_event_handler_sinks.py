"""Event handlers for queue types this server has no consumer for (sqs, kafka, amqp, nats, a
custom `name:queue`): accepted and kept as Conductor keeps them, never run, and marked in the UI
and in /metrics."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from conductor.api.keys import POOL
from conductor.app import EVENT_PROCESSOR
from conductor.store import events as event_store
from tests.integration.api import register_workflow, sequence

pytestmark = pytest.mark.integration

HOSTILE = "<script>window.pwned=1</script>"
GAUGE = re.compile(r"^conductor_event_handlers_without_consumer (\S+)$", re.M)


def handler(name: str, event: str, **extra) -> dict:
    return {
        "name": name,
        "event": event,
        "condition": "$.amount > 10",
        "evaluatorType": "javascript",
        "actions": [
            {
                "action": "start_workflow",
                "start_workflow": {"name": "follow", "input": {"amount": "${amount}"}},
                "expandInlineJSON": True,
            }
        ],
        "active": True,
        **extra,
    }


async def gauge(client) -> float:
    await client.server.app[EVENT_PROCESSOR].update_gauges()
    found = GAUGE.search(await (await client.get("/metrics")).text())
    assert found is not None
    return float(found.group(1))


async def _page(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.text()


@pytest.mark.parametrize(
    "event",
    [
        "sqs:my-queue",
        "kafka:topic",
        "amqp:x",
        "amqp_exchange:orders?exchangeType=topic",
        "nats:subj",
        "custom:queue",
        "no-colon-at-all",
    ],
)
async def test_a_handler_of_any_event_is_stored_listed_updated_and_deleted(client, event) -> None:
    stored = handler("elsewhere", event)
    assert (await client.post("/api/event", json=stored)).status == 200
    assert await (await client.get("/api/event")).json() == [stored]
    assert await (await client.get(f"/api/event/{quote(event, safe='')}")).json() == [stored]
    changed = {**stored, "event": f"{event}-2", "active": False}
    assert (await client.put("/api/event", json=changed)).status == 200
    assert await (await client.get("/api/event")).json() == [changed]
    assert await (await client.get(f"/api/event/{quote(event, safe='')}")).json() == []
    inactive = await client.get(
        f"/api/event/{quote(event + '-2', safe='')}", params={"activeOnly": "false"}
    )
    assert await inactive.json() == [changed]
    assert (await client.delete("/api/event/elsewhere")).status == 200
    assert await (await client.get("/api/event")).json() == []


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "event": "", "actions": [{"action": "fail_task", "fail_task": {}}]},
        {"name": "x", "actions": [{"action": "fail_task", "fail_task": {}}]},
        {"name": "x", "event": "sqs:q", "actions": []},
        {"name": "x", "event": "sqs:q", "actions": [{"action": "explode", "explode": {}}]},
        {"name": "x", "event": "kafka:t", "actions": [{"action": "start_workflow"}]},
        {"name": "", "event": "sqs:q", "actions": [{"action": "fail_task", "fail_task": {}}]},
    ],
    ids=str,
)
async def test_other_checks_still_hold_for_any_event(client, bad) -> None:
    response = await client.post("/api/event", json=bad)
    assert response.status == 400
    assert await (await client.get("/api/event")).json() == []


async def test_a_missing_event_is_refused_with_conductors_message(client) -> None:
    body = {"name": "x", "actions": [{"action": "fail_task", "fail_task": {}}]}
    response = await client.post("/api/event", json=body)
    errors = (await response.json())["validationErrors"]
    assert errors == [{"path": "eventHandler.event", "message": "Missing event location"}]


async def test_a_list_of_handlers_is_stored_whole_or_not_at_all(client) -> None:
    """The JavaScript SDK's addEventHandler posts a list (Orkes' shape)."""
    first, second = handler("first", "sqs:a"), handler("second", "conductor:b")
    assert (await client.post("/api/event", json=[first, second])).status == 200
    assert await (await client.get("/api/event")).json() == [first, second]
    taken = await client.post("/api/event", json=[handler("third", "sqs:c"), first])
    assert taken.status == 409
    broken = await client.post("/api/event", json=[handler("fourth", "sqs:d"), {"name": "x"}])
    assert broken.status == 400
    paths = [e["path"] for e in (await broken.json())["validationErrors"]]
    assert paths == ["eventHandler[1].event", "eventHandler[1].actions"]
    assert [h["name"] for h in await (await client.get("/api/event")).json()] == [
        "first",
        "second",
    ]
    assert (await client.post("/api/event", json=["not a handler"])).status == 400
    assert (await client.post("/api/event", json=7)).status == 400


async def test_messages_never_run_handlers_without_a_consumer(client) -> None:
    await register_workflow(client, sequence("follow", "step"))
    # A queue name no consumer here reads: even a message written under it runs nothing.
    assert (await client.post("/api/event", json=handler("odd", "conductor_custom"))).status == 200
    async with client.server.app[POOL].acquire() as conn:
        await event_store.publish(conn, "conductor_custom", "m1", {"amount": 99}, 1)
    assert await client.server.app[EVENT_PROCESSOR].run_once() == 1
    search = await client.get("/api/workflow/search", params={"query": "workflowType = follow"})
    assert (await search.json())["results"] == []


async def test_the_gauge_counts_active_handlers_without_a_consumer(client) -> None:
    assert await gauge(client) == 0
    for name, event in [
        ("sqs", "sqs:my-queue"),
        ("kafka", "kafka:topic"),
        ("custom", "custom:queue"),
        ("ours", "conductor:orders:paid"),
        ("bare", "conductor"),
    ]:
        assert (await client.post("/api/event", json=handler(name, event))).status == 200
    assert await gauge(client) == 4  # every one but conductor:orders:paid
    quiet = handler("kafka", "kafka:topic", active=False)
    assert (await client.put("/api/event", json=quiet)).status == 200
    assert await gauge(client) == 3  # an inactive handler waits for nothing
    assert (await client.delete("/api/event/sqs")).status == 200
    assert await gauge(client) == 2
    moved = handler("custom", "conductor:orders:refunded")
    assert (await client.put("/api/event", json=moved)).status == 200
    assert await gauge(client) == 1


async def test_the_ui_marks_handlers_without_a_consumer(client) -> None:
    for name, event in [("on_sqs", "sqs:orders"), ("on_ours", "conductor:orders:paid")]:
        assert (await client.post("/api/event", json=handler(name, event))).status == 200
    listing = await _page(client, "/eventHandlerDefs")
    rows = dict(re.findall(r'<tr data-handler="([^"]+)">(.*?)</tr>', listing, re.S))
    assert "no consumer here" in rows["on_sqs"]
    assert "no consumer here" not in rows["on_ours"]
    assert "sqs:orders" in rows["on_sqs"]
    detail = await _page(client, "/eventHandlerDef/on_sqs")
    assert "no consumer here" in detail and "never run here" in detail
    assert "no consumer here" not in await _page(client, "/eventHandlerDef/on_ours")


async def test_the_ui_escapes_a_hostile_handler_without_a_consumer(client) -> None:
    hostile = handler(HOSTILE, f"sqs:{HOSTILE}", condition=HOSTILE)
    assert (await client.post("/api/event", json=hostile)).status == 200
    assert await (await client.get("/api/event")).json() == [hostile]  # kept exactly as sent
    pages = [
        await _page(client, "/eventHandlerDefs"),
        await _page(client, f"/eventHandlerDef/{quote(HOSTILE, safe='')}"),
    ]
    for page in pages:
        assert "no consumer here" in page
        assert "<script>window.pwned" not in page
        assert html.escape(f"sqs:{HOSTILE}", quote=False) in page
