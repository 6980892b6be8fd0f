"""WAIT tasks and startDelay on durable timers, with the manual clock."""

from __future__ import annotations

import pytest

from conductor.app import create_app
from conductor.config import Settings
from tests.conftest import fire_timers
from tests.integration.api import complete, poll, register_workflow, sequence, start, workflow

pytestmark = pytest.mark.integration


def wait_flow(name: str, **params) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "wait",
                "taskReferenceName": "wait",
                "type": "WAIT",
                "inputParameters": params,
            },
            {"name": "work", "taskReferenceName": "after"},
        ],
    }


async def wait_status(client, workflow_id: str) -> str:
    return (await workflow(client, workflow_id))["tasks"][0]["status"]


async def test_wait_by_duration_fires_at_its_time_not_before(client, clock) -> None:
    await register_workflow(client, wait_flow("w", duration="2 hours"))
    workflow_id = await start(client, "w")
    clock.advance(2 * 3600 - 1)
    await fire_timers(client)
    assert await wait_status(client, workflow_id) == "IN_PROGRESS"
    clock.advance(1)
    assert await fire_timers(client) == 1
    assert await wait_status(client, workflow_id) == "COMPLETED"
    [task] = await poll(client, "work")
    assert task["workflowInstanceId"] == workflow_id


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles", "+05:30"]
)
async def test_wait_until_in_several_zones(client, clock, zone) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from conductor.engine.waits import until_ms

    due_text = f"2024-03-10 12:00 {zone}"
    due = until_ms(due_text)
    clock.set(due - 3_600_000)
    await register_workflow(client, wait_flow("wu", until=due_text))
    workflow_id = await start(client, "wu")
    clock.set(due - 1)
    await fire_timers(client)
    assert await wait_status(client, workflow_id) == "IN_PROGRESS"
    clock.set(due)
    await fire_timers(client)
    assert await wait_status(client, workflow_id) == "COMPLETED"
    if "/" in zone:  # the zone's own wall time at the due instant is noon
        local = datetime.fromtimestamp(due / 1000, ZoneInfo(zone))
        assert (local.hour, local.minute) == (12, 0) and local.utcoffset() is not None
        assert isinstance(local.utcoffset(), timedelta)


async def test_a_ten_year_wait(client, clock) -> None:
    await register_workflow(client, wait_flow("decade", duration="3653 days"))
    workflow_id = await start(client, "decade")
    task = (await workflow(client, workflow_id))["tasks"][0]
    clock.advance(3652 * 86400)
    await fire_timers(client)
    assert await wait_status(client, workflow_id) == "IN_PROGRESS"
    clock.advance(86400)
    await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["endTime"] - task["startTime"] == 3653 * 86400 * 1000


async def test_clock_jumps_do_not_fire_early(client, clock) -> None:
    await register_workflow(client, wait_flow("jumpy", duration="3 days"))
    workflow_id = await start(client, "jumpy")
    clock.advance(86400)  # +1 day
    await fire_timers(client)
    clock.advance(-86400)  # and back
    await fire_timers(client)
    clock.advance(-86400)  # a day before the start
    assert await fire_timers(client) == 0
    assert await wait_status(client, workflow_id) == "IN_PROGRESS"


async def test_wait_without_time_is_completed_by_an_update(client) -> None:
    await register_workflow(client, wait_flow("signal"))
    workflow_id = await start(client, "signal")
    assert await wait_status(client, workflow_id) == "IN_PROGRESS"
    response = await client.post(f"/api/tasks/{workflow_id}/wait/COMPLETED", json={"ok": 1})
    assert response.status == 200
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "COMPLETED" and run["tasks"][0]["outputData"] == {"ok": 1}


async def test_sync_execute_returns_at_a_signal_wait(client) -> None:
    await register_workflow(client, wait_flow("blocked"))
    response = await client.post("/api/workflow/execute/blocked/1?waitForSeconds=10", json={})
    run = await response.json()
    assert run["status"] == "RUNNING" and run["signalTimeout"] is False


async def test_wait_across_a_restart_fires_once(client, clock, db_dsn, aiohttp_client) -> None:
    await register_workflow(client, wait_flow("downtime", duration="1 hour"))
    workflow_id = await start(client, "downtime")
    await client.close()
    clock.advance(5 * 3600)  # down across the due time
    restarted = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, run_background_services=False), clock=clock)
    )
    assert await fire_timers(restarted) == 1
    assert await fire_timers(restarted) == 0
    run = await workflow(restarted, workflow_id)
    assert [t["referenceTaskName"] for t in run["tasks"]] == ["wait", "after"]


async def test_bad_wait_definitions_are_refused(client) -> None:
    both = wait_flow("both", duration="1s", until="2031-01-01")
    assert (await client.post("/api/metadata/workflow", json=both)).status == 400
    bad = wait_flow("bad", duration="a fortnight")
    response = await client.post("/api/metadata/workflow", json=bad)
    assert response.status == 400
    assert (await response.json())["validationErrors"][0]["path"].endswith("duration")


async def test_start_delay_holds_a_worker_task_back(client, clock) -> None:
    definition = sequence("delayed", "a")
    definition["tasks"][0]["startDelay"] = 30
    await register_workflow(client, definition)
    await start(client, "delayed")
    assert await poll(client, "work") == []
    clock.advance(30)
    await fire_timers(client)
    [task] = await poll(client, "work")
    assert task["startDelayInSeconds"] == 30
    await complete(client, task)


async def test_timer_metrics(client, clock) -> None:
    from conductor.app import TIMER_SERVICE

    await register_workflow(client, wait_flow("metered", duration="10s"))
    for _ in range(3):
        await start(client, "metered")
    service = client.server.app[TIMER_SERVICE]
    await service.update_gauges()
    text = await (await client.get("/metrics")).text()
    assert "conductor_timers_pending 3.0" in text and "conductor_timers_due 0.0" in text
    clock.advance(12)
    await service.update_gauges()
    assert "conductor_timers_due 3.0" in await (await client.get("/metrics")).text()
    await fire_timers(client)
    text = await (await client.get("/metrics")).text()
    assert "conductor_timer_lateness_seconds_count 3.0" in text
    assert 'conductor_timer_lateness_seconds_bucket{le="2.5"} 3.0' in text  # 2 s late each
    assert 'conductor_timer_lateness_seconds_bucket{le="1.0"} 0.0' in text


async def test_two_servers_fire_each_timer_once(client, clock, db_dsn, aiohttp_client) -> None:
    import asyncio

    from conductor.app import TIMER_SERVICE

    other = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, run_background_services=False), clock=clock)
    )
    await register_workflow(client, wait_flow("shared", duration="1 minute"))
    ids = [await start(client if i % 2 else other, "shared") for i in range(40)]
    clock.advance(60)
    services = [client.server.app[TIMER_SERVICE], other.server.app[TIMER_SERVICE]]
    fired = await asyncio.gather(*(s.run_once() for s in services for _ in range(3)))
    assert sum(fired) == 40  # every timer claimed by exactly one server
    for workflow_id in ids:
        run = await workflow(client, workflow_id)
        assert [t["referenceTaskName"] for t in run["tasks"]] == ["wait", "after"]
    tasks = await poll(client, "work", count=100)
    assert len(tasks) == 40
