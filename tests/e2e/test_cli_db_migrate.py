"""`conductor db migrate` on an empty database, again (nothing to do), and on no database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from conductor.store.migrate import migration_files
from conductor.testing.databases import create_database, drop_database, with_database

pytestmark = pytest.mark.e2e


def migrate_command(*args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    return subprocess.run(
        [sys.executable, "-m", "conductor", "db", "migrate", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def applied_versions(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    finally:
        await conn.close()


def test_migrate_applies_the_schema_once(databases) -> None:
    name = asyncio.run(create_database(databases.admin_dsn, "conductor_migrate"))
    url = with_database(databases.admin_dsn, name)
    try:
        first = migrate_command("--database-url", url)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"applied {len(migration_files())} migrations to ")
        assert sorted(asyncio.run(applied_versions(url))) == [v for v, _, _ in migration_files()]
        again = migrate_command("--database-url", url)
        assert again.returncode == 0 and again.stdout.strip().endswith("is up to date")
    finally:
        asyncio.run(drop_database(databases.admin_dsn, name))


def test_migrate_needs_a_reachable_database() -> None:
    nothing = migrate_command()
    assert nothing.returncode == 2 and "--database-url" in nothing.stderr
    unreachable = migrate_command("--database-url", "postgresql://u:pw@127.0.0.1:9/x")
    assert unreachable.returncode == 2
    [line] = unreachable.stderr.strip().splitlines()
    assert "cannot connect to the database at postgresql://u:***@127.0.0.1:9/x" in line
