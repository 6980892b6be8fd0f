"""Forward-only numbered migrations, applied at start under an advisory lock.

Several servers may start at once: the transaction-scoped advisory lock lets one of them apply
pending files while the others wait, then find nothing left to do.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

from conductor.store.pool import Conn

log = logging.getLogger(__name__)

_LOCK_ID = 0x436F6E64  # "Cond": any fixed number shared by every server of this schema
_FILE = re.compile(r"^(\d{4})_[\w-]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration, in order."""
    folder = resources.files("conductor.store").joinpath("sql/migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(found)


async def migrate(conn: Conn) -> list[str]:
    """Apply pending migrations; returns the names of the files applied."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, text in migration_files():
            if version in done:
                continue
            await conn.execute(text)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
            applied.append(name)
            log.info("applied migration %s", name)
    return applied
