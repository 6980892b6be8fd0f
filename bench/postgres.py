"""Measurements taken on PostgreSQL directly, past the server: the baseline and the counters.

The raw commit rate (autocommit single-row INSERTs) is what the benches compare the server
against: the same PostgreSQL on the same machine in the same run, so the ratio travels better
than an absolute figure. The database's commit, row and WAL counters and its statement mix
(pg_stat_statements) explain where a figure comes from.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from bench.cpu import CpuMeter, postmaster_pid

_STATS_FLUSH_WAIT_S = 11.0  # idle backends flush their statistics within 10 s
_SCRATCH_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_scratch "
    "(id bigserial PRIMARY KEY, payload text NOT NULL, created_at bigint NOT NULL)"
)
_DROP_SCRATCH_TABLE = "DROP TABLE bench_scratch"


async def _insert_one(conn: asyncpg.Connection) -> None:
    """The raw limit's statement: one autocommit 1-row INSERT."""
    await conn.execute(
        "INSERT INTO bench_scratch (payload, created_at) VALUES ($1, $2)", "x" * 64, time.time_ns()
    )


async def raw_commit_rate(
    dsn: str, connections: int, seconds: float
) -> tuple[float, dict[str, float]]:
    """Autocommit single-row INSERTs per second over `connections` connections, and CPU use."""
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    try:
        await conns[0].execute(_SCRATCH_TABLE)
        counts = [0] * connections
        stop_at = time.perf_counter() + seconds

        async def insert_loop(index: int, conn: asyncpg.Connection) -> None:
            while time.perf_counter() < stop_at:
                await _insert_one(conn)
                counts[index] += 1

        meter = CpuMeter(await postmaster_pid(dsn))
        meter.start()
        await asyncio.gather(*(insert_loop(i, c) for i, c in enumerate(conns)))
        cpu = meter.stop()
        cpu["ops"] = sum(counts)
        return sum(counts) / cpu["wall"], cpu
    finally:
        for conn in conns:
            await conn.close()


async def drop_scratch_table(dsn: str) -> None:
    """Remove what raw_commit_rate wrote, before the server's workload starts."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_DROP_SCRATCH_TABLE)
    finally:
        await conn.close()


async def db_stats(dsn: str, enabled: bool) -> dict[str, float]:
    """Cumulative commits, row changes and WAL position of the database (empty if disabled)."""
    if not enabled:
        return {}
    await asyncio.sleep(_STATS_FLUSH_WAIT_S)
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,"
            " pg_current_wal_lsn() - '0/0'::pg_lsn AS wal_bytes"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    assert row is not None
    return {key: float(value) for key, value in row.items()}


def per_task(before: dict[str, float], after: dict[str, float], tasks: int) -> dict[str, float]:
    return {key: round((after[key] - before[key]) / tasks, 2) for key in after}


async def statement_stats(dsn: str, reset: bool) -> list[dict[str, Any]]:
    """Reset pg_stat_statements for this database, or read it (top statements by calls).

    Needs `shared_preload_libraries = 'pg_stat_statements'` on the PostgreSQL server.
    """
    conn = await asyncpg.connect(dsn)
    try:
        if reset:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await conn.execute("SELECT pg_stat_statements_reset()")
            return []
        found = await conn.fetch(
            "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat_%' ORDER BY calls DESC"
        )
    finally:
        await conn.close()
    return [dict(row) for row in found]


async def idle_commit_ms(dsn: str, runs: int, idle_s: float) -> list[float]:
    """Milliseconds of the raw limit's statement after `idle_s` of quiet, `runs` times: a
    durable commit at the pace of one request at a time, where an idle machine's wake-ups, not
    its throughput, set the cost. Leaves no table behind."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_SCRATCH_TABLE)
        took = []
        for _ in range(runs):
            await asyncio.sleep(idle_s)
            began = time.perf_counter()
            await _insert_one(conn)
            took.append(1000 * (time.perf_counter() - began))
        await conn.execute(_DROP_SCRATCH_TABLE)
        return took
    finally:
        await conn.close()
