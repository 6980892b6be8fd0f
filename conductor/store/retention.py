"""Retention: remove (optionally archiving) workflows that ended long ago, a batch at a time."""

from __future__ import annotations

from conductor.engine.decision import TASK_TIMER_KINDS
from conductor.store.pool import Conn
from conductor.store.queries import sql


async def purge(
    conn: Conn, ended_before: int, limit: int, archive: bool, now: int
) -> tuple[int, int]:
    """Remove up to `limit` workflows that ended before `ended_before`: (how many went, rows the
    database has inserted and updated so far, as the statistics system last saw them)."""
    kinds = [kind.value for kind in TASK_TIMER_KINDS]
    async with conn.transaction():
        # A purge lost in a crash is simply done again: no need to wait for the disk.
        await conn.execute(sql("transaction_async_commit"))
        row = await conn.fetchrow(sql("retention_purge"), ended_before, limit, kinds, archive, now)
    assert row is not None
    return int(row["removed"]), int(row["writes"] or 0)
