"""The SQL catalogue and the migrator against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest

from conductor.store.migrate import migrate, migration_files
from conductor.store.queries import QUERIES
from conductor.testing.databases import with_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2] / "conductor"


async def test_every_catalogue_query_prepares_on_the_migrated_schema(db_dsn) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        for name, statement in QUERIES.items():
            try:
                await conn.prepare(statement)
            except asyncpg.PostgresError as exc:
                pytest.fail(f"query {name} does not prepare: {exc}")
    finally:
        await conn.close()


def test_every_query_is_used_and_every_used_name_exists() -> None:
    code = "\n".join(p.read_text() for p in ROOT.rglob("*.py"))
    used = set(re.findall(r'sql\("(\w+)"\)', code))
    assert used - set(QUERIES) == set()
    assert set(QUERIES) - used == set()


def test_no_sql_outside_the_store() -> None:
    pattern = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "store" not in p.parts and pattern.search(p.read_text())
    ]
    assert offenders == []


async def test_migrations_run_once_even_when_servers_start_together(databases) -> None:
    name = f"conductor_mig_{id(databases) % 100000}"
    admin = await asyncpg.connect(databases.admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = with_database(databases.admin_dsn, name)
        conns = [await asyncpg.connect(dsn) for _ in range(3)]
        results = await asyncio.gather(*(migrate(c) for c in conns))
        expected = [f for _, f, _ in migration_files()]
        assert sorted(results, key=len) == [[], [], expected]
        assert await migrate(conns[0]) == []
        versions = await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [v for v, _, _ in migration_files()]
        for conn in conns:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_claim_uses_the_queue_index(db_dsn) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("SET enable_seqscan = off")
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) " + QUERIES["task_claim"], "work", 0, 10, "w"
        )
        assert "task_queue_claim_idx" in str(plan)
        plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + QUERIES["timer_claim_due"], 0, 10, 1)
        assert "timer_fire_at_idx" in str(plan)
    finally:
        await conn.close()
