"""Schedules: the API, exactly-once runs per fire time, catch-up after downtime, two servers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from conductor.app import SCHEDULE_SERVICE, create_app
from conductor.config import Settings
from tests.integration.api import register_workflow, sequence

pytestmark = pytest.mark.integration

START = int(datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC).timestamp() * 1000)


def every_minute(name: str = "billing", **extra) -> dict:
    return {
        "name": name,
        "cronExpression": "0 * * * * ?",
        "zoneId": "UTC",
        "startWorkflowRequest": {"name": "charge", "input": {"plan": "gold"}},
        **extra,
    }


@pytest.fixture
async def charge(client, clock):
    clock.set(START)
    await register_workflow(client, sequence("charge", "c"))


async def runs(client) -> list[dict]:
    response = await client.get(
        "/api/scheduler/search/executions", params={"scheduleName": "billing"}
    )
    return (await response.json())["results"]


async def test_schedule_api_round_trip(client, charge) -> None:
    response = await client.post(
        "/api/scheduler/schedules", json=every_minute(description="monthly")
    )
    assert response.status == 200
    saved = await response.json()
    assert saved["nextRunTime"] == START + 30_000 and saved["paused"] is False
    got = await (await client.get("/api/scheduler/schedules/billing")).json()
    assert got["cronExpression"] == "0 * * * * ?" and got["description"] == "monthly"
    listed = await (
        await client.get("/api/scheduler/schedules", params={"workflowName": "charge"})
    ).json()
    assert [s["name"] for s in listed] == ["billing"]
    assert (
        await client.put("/api/scheduler/schedules/billing/pause?reason=holiday", json={})
    ).status == 200
    paused = await (await client.get("/api/scheduler/schedules/billing")).json()
    assert (
        paused["paused"] is True
        and paused["pausedReason"] == "holiday"
        and "nextRunTime" not in paused
    )
    assert (await client.put("/api/scheduler/schedules/billing/resume", json={})).status == 200
    assert (await (await client.get("/api/scheduler/schedules/billing")).json())["paused"] is False
    assert (await client.delete("/api/scheduler/schedules/billing", json={})).status == 200
    assert (await client.get("/api/scheduler/schedules/billing")).status == 404


async def test_next_few_and_invalid_cron(client, charge) -> None:
    response = await client.get(
        "/api/scheduler/nextFewSchedules",
        params={"cronExpression": "0 0 1 * *", "scheduleStartTime": START, "limit": 3},
    )
    assert await response.json() == [
        int(datetime(2024, m, 1, tzinfo=UTC).timestamp() * 1000) for m in (2, 3, 4)
    ]
    bad = await client.post(
        "/api/scheduler/schedules", json=every_minute(cronExpression="every day")
    )
    assert bad.status == 400
    assert (await bad.json())["validationErrors"][0]["path"] == "workflowSchedule.cronExpression"
    assert (await client.get("/api/scheduler/schedules/billing")).status == 404


async def test_each_fire_time_starts_one_workflow(client, clock, charge) -> None:
    await client.post("/api/scheduler/schedules", json=every_minute())
    service = client.server.app[SCHEDULE_SERVICE]
    assert await service.run_once() == 0
    clock.advance(30)  # 00:01:00
    assert await service.run_once() == 1
    assert await service.run_once() == 0  # the same fire time again: nothing
    [run] = await runs(client)
    assert run["state"] == "EXECUTED" and run["scheduledTime"] == START + 30_000
    workflow = await (await client.get(f"/api/workflow/{run['workflowId']}")).json()
    assert workflow["input"]["plan"] == "gold"
    assert workflow["input"]["_scheduledTime"] == START + 30_000


@pytest.mark.parametrize(("catch_up", "expected"), [(True, 5), (False, 1)])
async def test_missed_fire_times_follow_the_catch_up_policy(
    client, clock, charge, catch_up, expected
) -> None:
    await client.post(
        "/api/scheduler/schedules", json=every_minute(runCatchupScheduleInstances=catch_up)
    )
    clock.advance(30 + 4 * 60)  # down from 00:00:30 to 00:05:00: five fire times passed
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == expected
    scheduled = sorted(r["scheduledTime"] for r in await runs(client))
    assert scheduled[-1] == START + 30_000 + 4 * 60_000
    assert len(scheduled) == expected


async def test_two_servers_start_each_fire_time_once(
    client, clock, charge, db_dsn, aiohttp_client
) -> None:
    await client.post(
        "/api/scheduler/schedules", json=every_minute(runCatchupScheduleInstances=True)
    )
    other = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, run_background_services=False), clock=clock)
    )
    services = [client.server.app[SCHEDULE_SERVICE], other.server.app[SCHEDULE_SERVICE]]
    for _ in range(10):
        clock.advance(60)
        await asyncio.gather(*(s.run_once() for s in services))
    scheduled = [r["scheduledTime"] for r in await runs(client)]
    assert len(scheduled) == len(set(scheduled)) == 10
    ids = {r["workflowId"] for r in await runs(client)}
    assert len(ids) == 10  # one workflow per fire time


async def test_unknown_workflow_records_a_failed_run(client, clock, charge) -> None:
    schedule = every_minute(startWorkflowRequest={"name": "no_such_flow"})
    await client.post("/api/scheduler/schedules", json=schedule)
    clock.advance(30)
    await client.server.app[SCHEDULE_SERVICE].run_once()
    [run] = await runs(client)
    assert run["state"] == "FAILED" and "No such workflow defined" in run["reason"]


async def test_schedules_pause_and_resume_in_bulk(client, charge) -> None:
    for name in ("billing", "dunning"):
        saved = await client.post("/api/scheduler/schedules", json=every_minute(name))
        assert saved.status == 200, await saved.text()

    paused = await client.put("/api/scheduler/bulk/pause", json=["billing", "dunning", "nope"])
    assert paused.status == 200
    assert await paused.json() == {
        "bulkErrorResults": {"nope": "Schedule nope not found"},
        "bulkSuccessfulResults": ["billing", "dunning"],
    }
    for name in ("billing", "dunning"):
        schedule = await (await client.get(f"/api/scheduler/schedules/{name}")).json()
        assert schedule["paused"] is True and "nextRunTime" not in schedule

    resumed = await client.put("/api/scheduler/bulk/resume", json=["dunning"])
    assert (await resumed.json())["bulkSuccessfulResults"] == ["dunning"]
    dunning = await (await client.get("/api/scheduler/schedules/dunning")).json()
    assert dunning["paused"] is False and dunning["nextRunTime"] == START + 30_000
    billing = await (await client.get("/api/scheduler/schedules/billing")).json()
    assert billing["paused"] is True

    refused = await client.put("/api/scheduler/bulk/pause", json={"names": ["billing"]})
    assert refused.status == 400
