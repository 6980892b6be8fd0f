"""Task reads and the queue: claim (poll), sizes, logs and poll data."""

from __future__ import annotations

from collections.abc import Callable

from conductor.engine.decision import TaskLog
from conductor.store.limits import TaskLimits
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.rows import stored_task_from_row
from conductor.store.values import PollRecord, StoredTask


async def claim(
    conn: Conn,
    queue_name: str,
    now: int,
    count: int,
    worker_id: str | None,
    limits: TaskLimits | None = None,
    on_limited: Callable[[str], None] | None = None,
) -> list[StoredTask]:
    """Claim up to `count` visible tasks of a queue in one statement (see `task_claim`). A
    limited definition's claims are serialised across servers by an advisory lock, and hand out
    only what its concurrency and rate limits leave room for; when they leave none,
    `on_limited` hears which ("concurrency" or "rate")."""
    if limits is None or not limits.active:
        found = await conn.fetch(sql("task_claim"), queue_name, now, count, worker_id)
        return [stored_task_from_row(row) for row in found]
    async with conn.transaction():
        await conn.execute(sql("task_limit_lock"), limits.task_def)
        allowed = count
        limited_by = ""
        if limits.concurrent > 0:
            running = await conn.fetchval(sql("task_slot_count"), limits.task_def)
            allowed = min(allowed, limits.concurrent - int(running))
            limited_by = "concurrency" if allowed <= 0 else ""
        if limits.rate_per_window > 0 and allowed > 0:
            since = now - limits.window_seconds * 1000
            started = await conn.fetchval(sql("task_rate_count"), limits.task_def, since)
            allowed = min(allowed, limits.rate_per_window - int(started))
            limited_by = "rate" if allowed <= 0 else ""
        if allowed <= 0:
            if on_limited is not None:
                on_limited(limited_by)
            return []
        found = await conn.fetch(sql("task_claim"), queue_name, now, allowed, worker_id)
        claimed = [stored_task_from_row(row) for row in found]
        if claimed and limits.concurrent > 0:
            ids = [c.task.task_id for c in claimed]
            await conn.execute(sql("task_slot_take"), ids, limits.task_def, now)
        if claimed and limits.rate_per_window > 0:
            await conn.execute(sql("task_rate_record"), limits.task_def, now, len(claimed))
        return claimed


async def recently_polled_queues(conn: Conn, since: int) -> frozenset[str]:
    """Queues some worker polled after `since` (from the poll data every server saves)."""
    return frozenset(r["queue_name"] for r in await conn.fetch(sql("poll_data_recent"), since))


async def get(conn: Conn, task_id: str) -> StoredTask | None:
    row = await conn.fetchrow(sql("task_get"), task_id)
    return None if row is None else stored_task_from_row(row)


async def queue_sizes(conn: Conn, names: list[str]) -> dict[str, int]:
    found = {r["queue_name"]: r["size"] for r in await conn.fetch(sql("task_queue_sizes"), names)}
    return {name: int(found.get(name, 0)) for name in names}


async def in_progress_counts(conn: Conn, names: list[str]) -> dict[str, int]:
    found = await conn.fetch(sql("task_queue_in_progress_counts"), names)
    return {r["queue_name"]: int(r["size"]) for r in found}


async def requeue(conn: Conn, queue_name: str, now: int) -> int:
    return int(await conn.fetchval(sql("task_queue_requeue"), queue_name, now))


async def all_queue_sizes(conn: Conn) -> dict[str, int]:
    return {r["queue_name"]: int(r["size"]) for r in await conn.fetch(sql("task_queue_all_sizes"))}


async def add_log(conn: Conn, task_id: str, line: str, now: int) -> None:
    await conn.execute(sql("task_log_insert"), task_id, line, now)


async def logs(conn: Conn, task_id: str) -> list[TaskLog]:
    found = await conn.fetch(sql("task_log_list"), task_id)
    return [TaskLog(r["task_id"], r["log"], r["created_time"]) for r in found]


async def save_poll_data(conn: Conn, entries: list[tuple[str, str, str | None, int]]) -> None:
    """Upsert (queue_name, domain, worker_id, last_poll_time) rows."""
    await conn.executemany(sql("poll_data_upsert"), entries)


async def poll_data(conn: Conn, task_type: str | None) -> list[PollRecord]:
    if task_type is None:
        found = await conn.fetch(sql("poll_data_all"))
    else:
        found = await conn.fetch(sql("poll_data_for_type"), task_type)
    return [
        PollRecord(r["queue_name"], r["domain"] or None, r["worker_id"], r["last_poll_time"])
        for r in found
    ]


async def notify(conn: Conn, channel: str, payload: str) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", channel, payload)


async def health(conn: Conn) -> tuple[str, bool]:
    row = await conn.fetchrow(sql("health_check"))
    assert row is not None
    return str(row[0]), row[1] == "on"


async def database_time_us(conn: Conn) -> int:
    return int(await conn.fetchval(sql("database_time_us")))


async def connection_limit(conn: Conn) -> int:
    """max_connections less the connections reserved for superusers."""
    return int(await conn.fetchval(sql("connection_limit")))
