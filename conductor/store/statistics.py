"""The planner's statistics of the tables every transition touches, refreshed when stale."""

from __future__ import annotations

from conductor.store.pool import Conn
from conductor.store.queries import sql

# The tables the hot path's statements join and look up by key. Each starts empty and grows or
# churns by thousands of rows a second.
HOT_TABLES = ("task", "task_queue", "timer", "workflow")
# Autovacuum's own rule (autovacuum_analyze_threshold and _scale_factor at their defaults).
STALE_ROWS = 50
STALE_FRACTION = 0.1


async def stale_tables(conn: Conn, tables: tuple[str, ...] = HOT_TABLES) -> list[str]:
    """Those of `tables` changed enough since their last ANALYZE to be stale, by name."""
    rows = await conn.fetch(sql("table_statistics_stale"), tables, STALE_ROWS, STALE_FRACTION)
    return [str(r["table_name"]) for r in rows]


async def analyze_stale(conn: Conn, tables: tuple[str, ...] = HOT_TABLES) -> list[str]:
    """ANALYZE those of `tables` that are stale; the ones analyzed. Another server doing the
    same at the moment makes this round a no-op."""
    # Identifiers cannot be parameters: only names from HOT_TABLES reach the statement.
    unknown = set(tables) - set(HOT_TABLES)
    if unknown:
        raise ValueError(f"not a hot table: {sorted(unknown)}")
    async with conn.transaction():
        if not await conn.fetchval(sql("table_statistics_lock")):
            return []
        stale = await stale_tables(conn, tables)
        if stale:
            await conn.execute("ANALYZE " + ", ".join(stale))
    return stale
