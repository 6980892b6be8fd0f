"""Schedules and their executions."""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.engine.model import JSON
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.values import ActiveSchedule, DueSchedule


def _schedule_json(row: asyncpg.Record) -> JSON:
    """The stored schedule with its state, as Conductor's WorkflowSchedule."""
    body: JSON = dict(row["body"])
    body["paused"] = row["paused"]
    body["createTime"] = row["create_time"]
    body["updatedTime"] = row["update_time"]
    if row["next_run_time"] is not None:
        body["nextRunTime"] = row["next_run_time"]
    return body


async def upsert(conn: Conn, body: JSON, paused: bool, next_run: int | None, now: int) -> int:
    created = await conn.fetchval(sql("schedule_upsert"), body["name"], body, paused, next_run, now)
    return int(created)


async def get(conn: Conn, name: str) -> JSON | None:
    row = await conn.fetchrow(sql("schedule_get"), name)
    return None if row is None else _schedule_json(row)


async def list_all(conn: Conn, workflow_name: str | None) -> list[JSON]:
    return [_schedule_json(r) for r in await conn.fetch(sql("schedule_list"), workflow_name)]


async def search(
    conn: Conn,
    workflow_name: str | None,
    name_part: str | None,
    paused: bool | None,
    start: int,
    size: int,
) -> tuple[int, list[JSON]]:
    """(total matches, one page by name) of the schedules of a workflow, with `name_part` in
    their name (any case) and in the given paused state; None leaves a filter out."""
    filters = (workflow_name, name_part, paused)
    total = await conn.fetchval(sql("schedule_search_count"), *filters)
    found = await conn.fetch(sql("schedule_search"), *filters, start, size)
    return int(total), [_schedule_json(r) for r in found]


async def delete(conn: Conn, name: str) -> bool:
    return await conn.fetchval(sql("schedule_delete"), name) is not None


async def set_paused(
    conn: Conn, name: str, paused: bool, extra: JSON, next_run: int | None, now: int
) -> bool:
    found = await conn.fetchval(sql("schedule_set_paused"), name, paused, extra, next_run, now)
    return found is not None


async def claim_due(conn: Conn, now: int, limit: int) -> list[DueSchedule]:
    """Lock the schedules due at `now` (call inside a transaction)."""
    found = await conn.fetch(sql("schedule_claim_due"), now, limit)
    return [DueSchedule(r["name"], r["body"], int(r["next_run_time"])) for r in found]


async def set_next_run(conn: Conn, name: str, next_run: int | None) -> None:
    await conn.execute(sql("schedule_set_next_run"), name, next_run)


async def lock_active(conn: Conn) -> list[ActiveSchedule]:
    """Lock every unpaused schedule (call inside a transaction); waits for a round firing one."""
    found = await conn.fetch(sql("schedule_lock_active"))
    return [ActiveSchedule(r["name"], r["body"], r["next_run_time"]) for r in found]


async def set_next_runs(conn: Conn, next_runs: dict[str, int | None]) -> None:
    """Set several schedules' next fire times in one statement."""
    if next_runs:
        names = list(next_runs)
        await conn.execute(sql("schedule_set_next_runs"), names, [next_runs[n] for n in names])


async def scheduler_paused_for_round(conn: Conn) -> bool:
    """Whether the whole scheduler is paused; share-locks the switch until the transaction
    ends, so a pause waits for this round (call inside a transaction)."""
    return bool(await conn.fetchval(sql("scheduler_paused_for_round")))


async def scheduler_paused(conn: Conn) -> bool:
    """Whether the whole scheduler is paused, read without a lock."""
    return bool(await conn.fetchval(sql("scheduler_paused")))


async def set_scheduler_paused(conn: Conn, paused: bool, now: int) -> None:
    """Pause or resume the whole scheduler, once every round firing now has committed."""
    await conn.execute(sql("scheduler_set_paused"), paused, now)


async def record_execution(conn: Conn, *values: Any) -> None:
    """(schedule, scheduled time, execution time, workflow name, workflow id, state, reason)."""
    await conn.execute(sql("schedule_execution_insert"), *values)


async def executions(conn: Conn, name: str | None, start: int, size: int) -> list[JSON]:
    """Recorded fire times, newest first, as Conductor's WorkflowScheduleExecution."""
    found = await conn.fetch(sql("schedule_execution_list"), name, start, size)
    return [
        {
            k: v
            for k, v in {
                "scheduleName": r["schedule_name"],
                "scheduledTime": r["scheduled_time"],
                "executionTime": r["execution_time"],
                "workflowName": r["workflow_name"],
                "workflowId": r["workflow_id"],
                "state": r["state"],
                "reason": r["reason"],
            }.items()
            if v is not None
        }
        for r in found
    ]


async def next_run(conn: Conn) -> int | None:
    value = await conn.fetchval(sql("schedule_next_run"))
    return None if value is None else int(value)
