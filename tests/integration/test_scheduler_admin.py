"""The whole scheduler's pause, resume and requeue (/api/scheduler/admin/...), and the schedule
search (/api/scheduler/schedules/search)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from conductor.api.keys import POOL
from conductor.app import SCHEDULE_SERVICE, create_app
from conductor.config import Settings
from conductor.store import schedules as schedule_store
from tests.conftest import wait_until
from tests.integration.api import register_workflow, sequence

pytestmark = pytest.mark.integration

START = int(datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC).timestamp() * 1000)
FIRST_RUN = START + 30_000  # 00:01:00
DONE = {"status": "done"}


def every_minute(name: str, workflow: str = "charge", **extra) -> dict:
    return {
        "name": name,
        "cronExpression": "0 * * * * ?",
        "zoneId": "UTC",
        "startWorkflowRequest": {"name": workflow, "input": {}},
        **extra,
    }


@pytest.fixture
async def charge(client, clock):
    clock.set(START)
    await register_workflow(client, sequence("charge", "c"))


async def save(client, schedule: dict) -> None:
    response = await client.post("/api/scheduler/schedules", json=schedule)
    assert response.status == 200, await response.text()


async def admin(client, action: str) -> dict:
    response = await client.get(f"/api/scheduler/admin/{action}")
    assert response.status == 200, await response.text()
    return await response.json()


async def schedule(client, name: str) -> dict:
    response = await client.get(f"/api/scheduler/schedules/{name}")
    assert response.status == 200, await response.text()
    return await response.json()


async def run_times(client, name: str) -> list[int]:
    response = await client.get("/api/scheduler/search/executions", params={"scheduleName": name})
    return sorted(r["scheduledTime"] for r in (await response.json())["results"])


@pytest.mark.parametrize(("catch_up", "missed_runs"), [(True, 5), (False, 1)])
async def test_pause_stops_every_schedule_and_resume_runs_what_came_due(
    client, clock, charge, catch_up, missed_runs
) -> None:
    """Conductor's pause leaves each schedule's queued next run in place, so once resumed the
    fire times that came due are handled as after downtime, by the catch-up policy."""
    await save(client, every_minute("billing", runCatchupScheduleInstances=catch_up))
    service = client.server.app[SCHEDULE_SERVICE]

    assert await admin(client, "pause") == DONE
    assert await admin(client, "pause") == DONE  # pausing twice is pausing
    clock.advance(30 + 4 * 60)  # 00:05:00: five fire times came due
    assert await service.run_once() == 0
    assert await run_times(client, "billing") == []
    paused = await schedule(client, "billing")
    assert paused["paused"] is False and paused["nextRunTime"] == FIRST_RUN

    assert await admin(client, "resume") == DONE
    assert await service.run_once() == missed_runs
    assert (await run_times(client, "billing"))[-1] == START + 30_000 + 4 * 60_000
    clock.advance(60)
    assert await service.run_once() == 1  # and it goes on firing
    assert len(await run_times(client, "billing")) == missed_runs + 1


async def test_a_pause_holds_for_every_server_and_outlives_the_app(
    client, clock, charge, db_dsn, aiohttp_client
) -> None:
    await save(client, every_minute("billing"))
    assert await admin(client, "pause") == DONE
    # A server started afterwards on the same database: it reads the pause from PostgreSQL.
    other = await aiohttp_client(
        create_app(Settings(database_url=db_dsn, run_background_services=False), clock=clock)
    )
    clock.advance(30)
    for server in (client, other):
        assert await server.server.app[SCHEDULE_SERVICE].run_once() == 0
    assert await run_times(client, "billing") == []

    assert await admin(other, "resume") == DONE
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == 1
    assert await run_times(client, "billing") == [FIRST_RUN]


async def test_a_pause_waits_for_a_round_that_is_firing(client, charge, db_dsn) -> None:
    """When the pause answers, no round is firing and none will start."""
    round_conn = await asyncpg.connect(db_dsn)
    try:
        round_tx = round_conn.transaction()
        await round_tx.start()
        assert await schedule_store.scheduler_paused_for_round(round_conn) is False
        pausing = asyncio.create_task(admin(client, "pause"))

        async def pause_blocked() -> bool:
            waiting = await round_conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(waiting)

        await wait_until(pause_blocked)
        assert not pausing.done()
        await round_tx.commit()
        assert await asyncio.wait_for(pausing, 10) == DONE
    finally:
        await round_conn.close()
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == 0


async def test_requeue_repairs_a_missing_next_run_and_changes_nothing_twice(
    client, clock, charge
) -> None:
    for name in ("billing", "dunning", "holiday"):
        await save(client, every_minute(name))
    assert (await client.put("/api/scheduler/schedules/holiday/pause", json={})).status == 200
    async with client.server.app[POOL].acquire() as conn:
        await schedule_store.set_next_run(conn, "billing", None)  # the lost timer
    assert "nextRunTime" not in await schedule(client, "billing")

    expected = {"recordIds.size": 2, "sampleIds": ["billing", "dunning"]}
    assert await admin(client, "requeue") == expected
    assert (await schedule(client, "billing"))["nextRunTime"] == FIRST_RUN
    assert (await schedule(client, "dunning"))["nextRunTime"] == FIRST_RUN
    assert "nextRunTime" not in await schedule(client, "holiday")  # paused stays without one
    assert await admin(client, "requeue") == expected
    assert (await schedule(client, "billing"))["nextRunTime"] == FIRST_RUN

    clock.advance(30)
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == 2
    assert await run_times(client, "billing") == [FIRST_RUN]


async def test_requeue_leaves_a_due_run_to_the_scheduler(client, clock, charge) -> None:
    await save(client, every_minute("billing", runCatchupScheduleInstances=True))
    clock.advance(30 + 2 * 60)  # 00:03:00: three fire times are due, none fired yet
    assert await admin(client, "requeue") == {"recordIds.size": 1, "sampleIds": ["billing"]}
    assert (await schedule(client, "billing"))["nextRunTime"] == FIRST_RUN
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == 3


async def test_requeue_names_a_schedule_whose_next_run_cannot_be_derived(
    client, clock, charge
) -> None:
    await save(client, every_minute("billing"))
    async with client.server.app[POOL].acquire() as conn:  # stored before cron checks existed
        await schedule_store.upsert(
            conn, every_minute("broken", cronExpression="every day"), False, None, START
        )
    answer = await admin(client, "requeue")
    assert answer["recordIds.size"] == 1 and answer["sampleIds"] == ["billing"]
    assert set(answer) == {"recordIds.size", "sampleIds", "error.broken"}
    assert isinstance(answer["error.broken"], str) and answer["error.broken"]


async def test_requeue_samples_ten_names(client, charge) -> None:
    names = [f"s{i:02}" for i in range(12)]
    for name in names:
        await save(client, every_minute(name))
    assert await admin(client, "requeue") == {"recordIds.size": 12, "sampleIds": names[:10]}


async def search(client, **params) -> dict:
    response = await client.get("/api/scheduler/schedules/search", params=params)
    assert response.status == 200, await response.text()
    return await response.json()


def names(result: dict) -> list[str]:
    return [s["name"] for s in result["results"]]


async def test_search_filters_and_pages_like_conductor(client, charge) -> None:
    for name in ("billing-eu", "billing-us", "dunning"):
        await save(client, every_minute(name))
    await save(client, every_minute("report", workflow="reporting"))
    assert (await client.put("/api/scheduler/schedules/dunning/pause", json={})).status == 200

    everything = await search(client)
    assert everything["totalHits"] == 4
    assert names(everything) == ["billing-eu", "billing-us", "dunning", "report"]
    listed = await (await client.get("/api/scheduler/schedules")).json()
    assert everything["results"] == listed  # the same WorkflowSchedule JSON as the list

    assert names(await search(client, workflowName="charge")) == [
        "billing-eu",
        "billing-us",
        "dunning",
    ]
    assert names(await search(client, workflowName="charg")) == []  # a workflow name is exact
    assert names(await search(client, scheduleName="LING-")) == ["billing-eu", "billing-us"]
    assert names(await search(client, scheduleName="%")) == []  # no pattern characters
    assert names(await search(client, paused="true")) == ["dunning"]
    assert names(await search(client, paused="false", workflowName="charge")) == [
        "billing-eu",
        "billing-us",
    ]

    page = await search(client, start=1, size=2)
    assert page["totalHits"] == 4 and names(page) == ["billing-us", "dunning"]
    beyond = await search(client, start=10)
    assert beyond == {"totalHits": 4, "results": []}
    assert (await search(client, size=0))["totalHits"] == 4
    # Conductor OSS's stores take freeText and sort and use neither; unknown names are ignored.
    ignored = await search(client, freeText="dunning", sort="name:DESC", query="x", other="y")
    assert ignored == everything


@pytest.mark.parametrize(
    "params",
    [
        {"start": "-1"},
        {"start": "first"},
        {"size": "-5"},
        {"size": "many"},
        {"size": "5001"},
        {"paused": "maybe"},
    ],
)
async def test_bad_search_parameters_are_400(client, charge, params) -> None:
    response = await client.get("/api/scheduler/schedules/search", params=params)
    assert response.status == 400
    body = await response.json()
    assert body["status"] == 400 and body["message"] and body["retryable"] is False


async def test_a_schedule_named_search_is_shadowed_as_in_conductor(client, charge) -> None:
    """In Conductor (Spring) the literal /schedules/search wins over /schedules/{name}; here
    the search route is registered first to the same effect."""
    await save(client, every_minute("search"))
    result = await search(client)
    assert names(result) == ["search"]
