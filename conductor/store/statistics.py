"""The planner's statistics of the tables every transition touches, refreshed when stale."""

from __future__ import annotations

import asyncpg

from conductor.store.pool import Conn
from conductor.store.queries import sql

# The tables the hot path's statements join and look up by key. Each starts empty and grows or
# churns by thousands of rows a second.
HOT_TABLES = ("task", "task_queue", "timer", "workflow")
# Autovacuum's own rule (autovacuum_analyze_threshold and _scale_factor at their defaults).
STALE_ROWS = 50
STALE_FRACTION = 0.1
# Below this many rows a table is analyzed here even with autovacuum on: its plans change most
# while it fills, and autovacuum may not look at it for a minute. Above it, only where
# autovacuum is off: analyzing a big table every few seconds costs, and each one's lock keeps
# autovacuum from starting on it.
SMALL_TABLE_ROWS = 10_000


async def stale_tables(conn: Conn, tables: tuple[str, ...] = HOT_TABLES) -> list[str]:
    """Those of `tables` changed enough since their last ANALYZE to be stale and left to the
    server (small, or autovacuum off), by name."""
    rows = await conn.fetch(
        sql("table_statistics_stale"), tables, STALE_ROWS, STALE_FRACTION, SMALL_TABLE_ROWS
    )
    return [str(r["table_name"]) for r in rows]


async def analyze_stale(conn: Conn, tables: tuple[str, ...] = HOT_TABLES) -> list[str]:
    """ANALYZE those of `tables` that are stale; the ones analyzed. Another server doing the
    same at the moment makes this round a no-op; a table whose lock is not free at once (an
    autovacuum, a DBA's VACUUM) is left for the next round."""
    # Identifiers cannot be parameters: only names from HOT_TABLES reach the statement.
    unknown = set(tables) - set(HOT_TABLES)
    if unknown:
        raise ValueError(f"not a hot table: {sorted(unknown)}")
    analyzed = []
    async with conn.transaction():
        if not await conn.fetchval(sql("table_statistics_lock")):
            return []
        await conn.execute(sql("table_statistics_lock_timeout"))
        for table in await stale_tables(conn, tables):
            try:
                async with conn.transaction():  # a savepoint: a lock timeout undoes only this
                    await conn.execute(f"ANALYZE {table}")
            except asyncpg.LockNotAvailableError:
                continue
            analyzed.append(table)
    return analyzed


async def oldest_snapshot_age_s(conn: Conn) -> float:
    """How long the oldest snapshot held in this database has been open, in seconds."""
    return float(await conn.fetchval(sql("oldest_snapshot_age")))
