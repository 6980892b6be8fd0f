"""Read-only views of pending timers for operators: the next ones due and how many are due in
each later span. Both stay on the fire_at indexes (a partial one for WAIT), so millions of
pending timers cost range scans, never a sort."""

from __future__ import annotations

from dataclasses import dataclass

from conductor.store.pool import Conn
from conductor.store.queries import sql


@dataclass(frozen=True)
class PendingTimer:
    kind: str
    workflow_id: str
    task_id: str | None
    fire_at: int
    task_ref: str | None
    workflow_name: str | None


@dataclass(frozen=True)
class DueCounts:
    """Pending timers by due time: by the first bound (overdue included), then up to each
    later bound, then after the last."""

    soon: int
    day: int
    month: int
    later: int


async def due_by(conn: Conn, until: int, limit: int, wait_only: bool) -> list[PendingTimer]:
    """Up to `limit` timers due by `until`, soonest first (WAIT timers only if `wait_only`)."""
    query = sql("timer_wait_pending_soon") if wait_only else sql("timer_pending_soon")
    return [
        PendingTimer(
            r["kind"],
            r["workflow_id"],
            r["task_id"],
            r["fire_at"],
            r["ref_name"],
            r["workflow_name"],
        )
        for r in await conn.fetch(query, until, limit)
    ]


async def counts(conn: Conn, bounds: tuple[int, int, int], wait_only: bool) -> DueCounts:
    query = sql("timer_wait_buckets") if wait_only else sql("timer_buckets")
    row = await conn.fetchrow(query, *bounds)
    assert row is not None
    return DueCounts(int(row["soon"]), int(row["day"]), int(row["month"]), int(row["later"]))
