"""Bulk timer firing: many workflows per transaction, and every way a bulk round can fall back.

Timers that only feed an event to their workflow (WAIT, timeouts) fire in one transaction per
chunk of workflows. A workflow that chunk cannot take (locked elsewhere, gone, a second timer of
the same workflow, a write conflict) must still be fired, exactly once, one by one.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from conductor.api.keys import CLOCK, EXECUTOR, METRICS, POOL, WAKEUPS
from conductor.app import TIMER_SERVICE
from conductor.timers.service import TimerService
from tests.conftest import fire_timers, wait_until
from tests.integration.api import poll, register_workflow, start, workflow

pytestmark = pytest.mark.integration


def wait_then_work(name: str, **extra: object) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "wait",
                "taskReferenceName": "wait",
                "type": "WAIT",
                "inputParameters": {"duration": "1 minute"},
            },
            {"name": "work", "taskReferenceName": "after"},
        ],
        **extra,
    }


async def timer_count(db_dsn: str) -> int:
    """Timers left, not counting the response-timeout leases of tasks the test polled."""
    conn = await asyncpg.connect(db_dsn)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM timer WHERE kind <> 'RESPONSE_TIMEOUT'")
        )
    finally:
        await conn.close()


async def metric(client, sample: str) -> float:
    text = await (await client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rpartition(" ")[2])
    raise AssertionError(f"no sample {sample}")


async def waits_completed(client, ids: list[str]) -> int:
    runs = [await workflow(client, workflow_id) for workflow_id in ids]
    return sum(run["tasks"][0]["status"] == "COMPLETED" for run in runs)


async def test_a_burst_of_due_waits_fires_in_bulk_and_schedules_each_next_task_once(
    client, clock, db_dsn
) -> None:
    await register_workflow(client, wait_then_work("burst"))
    ids = [await start(client, "burst") for _ in range(250)]
    clock.advance(60)
    service = client.server.app[TIMER_SERVICE]
    service.bulk_size = 40  # several chunks, fired concurrently
    assert await service.run_once() == 250
    assert await service.run_once() == 0
    assert await waits_completed(client, ids) == 250
    for workflow_id in ids[:10]:
        refs = [t["referenceTaskName"] for t in (await workflow(client, workflow_id))["tasks"]]
        assert refs == ["wait", "after"]
    assert len(await poll(client, "work", count=300)) == 250
    assert await timer_count(db_dsn) == 0
    assert await metric(client, 'conductor_timers_fired_total{kind="WAIT"}') == 250


async def test_a_workflow_locked_elsewhere_fires_once_its_lock_is_released(
    client, clock, db_dsn
) -> None:
    await register_workflow(client, wait_then_work("locked"))
    ids = [await start(client, "locked") for _ in range(3)]
    clock.advance(60)
    holder = await asyncpg.connect(db_dsn)
    try:
        holder_tx = holder.transaction()
        await holder_tx.start()
        await holder.execute("SELECT 1 FROM workflow WHERE workflow_id = $1 FOR UPDATE", ids[0])
        firing = asyncio.create_task(fire_timers(client))
        # The other two fire in bulk while the first waits for the lock, one by one.
        await wait_until(lambda: _completed_ids(client, ids[1:]))
        assert (await workflow(client, ids[0]))["tasks"][0]["status"] == "IN_PROGRESS"
        assert not firing.done()
        await holder_tx.rollback()
        await asyncio.wait_for(firing, 10)
    finally:
        await holder.close()
    assert await waits_completed(client, ids) == 3
    assert len(await poll(client, "work", count=10)) == 3
    assert await timer_count(db_dsn) == 0


async def _completed_ids(client, ids: list[str]) -> bool:
    return await waits_completed(client, ids) == len(ids)


async def test_a_write_conflict_rolls_the_chunk_back_and_fires_each_timer_once(
    client, clock, db_dsn
) -> None:
    """A task changed by another transaction after the chunk read it: compare-and-set fails,
    the whole chunk rolls back, and every timer in it fires through a single transition."""
    await register_workflow(client, wait_then_work("conflict"))
    ids = [await start(client, "conflict") for _ in range(5)]
    first = await workflow(client, ids[0])
    task_id = first["tasks"][0]["taskId"]
    clock.advance(60)
    other = await asyncpg.connect(db_dsn)
    try:
        other_tx = other.transaction()
        await other_tx.start()
        # Holds the task row; commits a new revision once the chunk is waiting on it.
        await other.execute("UPDATE task SET revision = revision + 1 WHERE task_id = $1", task_id)
        firing = asyncio.create_task(fire_timers(client))

        async def chunk_blocked() -> bool:
            waiting = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(waiting)

        await wait_until(chunk_blocked)
        await other_tx.commit()
        await asyncio.wait_for(firing, 10)
    finally:
        await other.close()
    assert await waits_completed(client, ids) == 5
    assert len(await poll(client, "work", count=10)) == 5  # one next task each, none twice
    assert await timer_count(db_dsn) == 0
    assert await metric(client, "conductor_transition_retries_total") >= 1


async def test_two_due_timers_of_one_workflow_both_fire(client, clock, db_dsn) -> None:
    """The WAIT and the workflow timeout fall due in the same round: the chunk takes one, the
    other fires one by one afterwards."""
    await register_workflow(
        client, wait_then_work("both", timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF")
    )
    workflow_id = await start(client, "both")
    clock.advance(61)
    await fire_timers(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "TIMED_OUT"
    assert await timer_count(db_dsn) == 0


async def test_a_timer_of_a_missing_workflow_is_dropped(client, clock, db_dsn) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO timer (timer_key, workflow_id, task_id, kind, fire_at)"
            " VALUES ('WAIT:gone-task', 'gone-workflow', 'gone-task', 'WAIT', $1)",
            clock.now_ms(),
        )
    finally:
        await conn.close()
    assert await fire_timers(client) == 1
    assert await timer_count(db_dsn) == 0


async def test_the_running_service_claims_while_earlier_batches_still_fire(
    client, clock, db_dsn
) -> None:
    """run(): the claimer does not wait for firing, caps what it holds unfired at one batch,
    and fires every timer exactly once."""
    app = client.server.app
    await register_workflow(client, wait_then_work("piped"))
    ids = [await start(client, "piped") for _ in range(300)]
    service = TimerService(
        app[POOL],
        app[CLOCK],
        app[EXECUTOR],
        app[WAKEUPS],
        app[METRICS],
        app[TIMER_SERVICE].handlers,
        batch=60,
        bulk_size=20,
        max_idle_ms=20,
    )
    running = asyncio.create_task(service.run())
    try:
        clock.advance(60)
        await wait_until(lambda: _timers_gone(db_dsn), timeout=30)
    finally:
        service.stop()
        await asyncio.wait_for(running, 10)
    assert await waits_completed(client, ids) == 300
    assert len(await poll(client, "work", count=400)) == 300


async def _timers_gone(db_dsn: str) -> bool:
    return await timer_count(db_dsn) == 0
