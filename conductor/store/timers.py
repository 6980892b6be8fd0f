"""Durable timer rows: claim the due ones, find the next fire time."""

from __future__ import annotations

from dataclasses import dataclass

from conductor.store.pool import Conn
from conductor.store.queries import sql


@dataclass(frozen=True)
class ClaimedTimer:
    key: str
    workflow_id: str
    task_id: str | None
    kind: str
    claimed_fire_at: int  # the leased fire time; the firing transition deletes the row by it
    payload: str | None
    due_at: int = 0  # when it was due (for lateness)


async def claim_due(
    conn: Conn, now: int, limit: int, lease_until: int
) -> tuple[list[ClaimedTimer], int | None]:
    """Lease up to `limit` due timers; also returns the next due time after `now`, if any."""
    found = await conn.fetch(sql("timer_claim_due"), now, limit, lease_until)
    next_due = found[0]["next_due"] if found else None
    claimed = [
        ClaimedTimer(
            r["timer_key"],
            r["workflow_id"],
            r["task_id"],
            r["kind"],
            r["fire_at"],
            r["payload"],
            r["due_at"],
        )
        for r in found
        if r["timer_key"] is not None
    ]
    return claimed, None if next_due is None else int(next_due)


async def delete_fired(conn: Conn, key: str, claimed_fire_at: int) -> None:
    await conn.execute(sql("timer_delete_fired"), key, claimed_fire_at)


async def record_failure(conn: Conn, key: str, claimed_fire_at: int) -> int | None:
    """The timer's failed firings in a row, this one counted; None if it moved on meanwhile."""
    failures = await conn.fetchval(sql("timer_record_failure"), key, claimed_fire_at)
    return None if failures is None else int(failures)


async def reschedule(
    conn: Conn, key: str, claimed_fire_at: int, fire_at: int, payload: str | None
) -> None:
    await conn.execute(sql("timer_reschedule"), key, claimed_fire_at, fire_at, payload)


async def next_fire_at(conn: Conn) -> int | None:
    value = await conn.fetchval(sql("timer_next_fire_at"))
    return None if value is None else int(value)


async def counts(conn: Conn, now: int) -> tuple[int, int]:
    """(pending, due) timer counts."""
    row = await conn.fetchrow(sql("timer_count"), now)
    assert row is not None
    return int(row["pending"]), int(row["due"])


async def count_due_before(conn: Conn, until: int, cap: int, skip_kinds: list[str]) -> int:
    """Timers due by `until` (epoch ms) not of `skip_kinds`, counted up to `cap`."""
    return int(await conn.fetchval(sql("timer_count_due_before"), until, cap, skip_kinds))


async def anything_runnable(conn: Conn, now: int) -> bool:
    """A pollable task or a task held by a worker (for the virtual clock's idle check)."""
    return bool(await conn.fetchval(sql("virtual_time_busy"), now))
