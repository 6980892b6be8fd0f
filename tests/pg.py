"""Test databases: one PostgreSQL per run, a migrated template, a fresh clone per test.

The server is the one named by CONDUCTOR_TEST_DATABASE_URL, or else an embedded PostgreSQL started
for the run. The template is built by our own migrator, so every run exercises it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


class TestDatabases:
    __test__ = False  # not a test class, despite its name

    def __init__(self, work_dir: Path) -> None:
        self._embedded: EmbeddedPostgres | None = None
        url = os.environ.get("CONDUCTOR_TEST_DATABASE_URL")
        if url:
            self.admin_dsn = url
        else:
            self._embedded = EmbeddedPostgres(work_dir / "pgdata")
            self.admin_dsn = self._embedded.start()
        self.template = f"conductor_tpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(self._build_template())

    @property
    def kind(self) -> str:
        return "embedded" if self._embedded else "external"

    async def _build_template(self) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.template}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(with_database(self.admin_dsn, self.template))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def create(self) -> str:
        name = f"conductor_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def drop(self, name: str) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def dsn(self, name: str) -> str:
        return with_database(self.admin_dsn, name)

    async def _admin(self, statement: str) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    def close(self) -> None:
        self.drop(self.template)
        if self._embedded is not None:
            self._embedded.stop()
