"""Test databases: one PostgreSQL per run, a migrated template, a fresh clone per test.

The server is the one named by CONDUCTOR_TEST_DATABASE_URL, or else an embedded PostgreSQL started
for the run. The work is done by `conductor.testing.databases`; this is the synchronous face the
fixtures need, since pytest builds them outside the tests' event loops.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from conductor.testing.databases import (
    PostgresServer,
    create_database,
    drop_database,
    migrated_template,
    with_database,
)


class TestDatabases:
    __test__ = False  # not a test class, despite its name

    def __init__(self, work_dir: Path) -> None:
        self._server = PostgresServer(os.environ.get("CONDUCTOR_TEST_DATABASE_URL"), work_dir)
        self.admin_dsn = self._server.start()
        self.template = asyncio.run(migrated_template(self.admin_dsn))

    def create(self) -> str:
        return asyncio.run(create_database(self.admin_dsn, "conductor_test", self.template))

    def drop(self, name: str) -> None:
        asyncio.run(drop_database(self.admin_dsn, name))

    def dsn(self, name: str) -> str:
        return with_database(self.admin_dsn, name)

    def close(self) -> None:
        self.drop(self.template)
        self._server.stop()
