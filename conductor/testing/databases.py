"""Scratch PostgreSQL databases for tests and benchmarks, on a given server or an embedded one.

`PostgresServer` is the PostgreSQL to use: the one at the admin URL given, or else an embedded
one started in a folder for the run (`conductor.store.embedded`). `create_database` makes a
database with a random name, optionally as a copy of a template; `drop_database` removes it even
while clients are still connected; `scratch_database` does both around a block. The template
from `migrated_template` is built by our own migrator, so every run exercises it and every copy
starts with the current schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate

log = logging.getLogger(__name__)


def with_database(dsn: str, database: str) -> str:
    """The same server's URL with another database name."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


class PostgresServer:
    """The server at `url`, or if there is none an embedded one in `work_dir / "pgdata"`."""

    def __init__(self, url: str | None, work_dir: Path) -> None:
        self._url = url
        self._embedded = None if url else EmbeddedPostgres(work_dir / "pgdata")

    @property
    def kind(self) -> str:
        return "external" if self._embedded is None else "embedded"

    def start(self) -> str:
        """Start the embedded server if this is one; return the admin URL."""
        if self._embedded is None:
            assert self._url
            return self._url
        log.info("starting embedded PostgreSQL in %s", self._embedded.data_dir)
        return self._embedded.start()

    def stop(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()


@contextlib.asynccontextmanager
async def postgres_server(url: str | None, work_dir: Path) -> AsyncIterator[tuple[str, str]]:
    """(admin URL, "external" | "embedded") of the server to use while the block runs."""
    server = PostgresServer(url, work_dir)
    admin_dsn = await asyncio.to_thread(server.start)
    try:
        yield admin_dsn, server.kind
    finally:
        await asyncio.to_thread(server.stop)


async def create_database(admin_dsn: str, prefix: str, template: str | None = None) -> str:
    """Create `{prefix}_<random>`, a copy of `template` if one is named; return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    statement = f"CREATE DATABASE {_quoted(name)}"
    if template is not None:
        statement += f" TEMPLATE {_quoted(template)}"
    await _execute(admin_dsn, statement)
    log.info("created database %s", name)
    return name


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop the database if it exists, disconnecting the clients still on it."""
    await _execute(admin_dsn, f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
    log.info("dropped database %s", name)


async def migrated_template(admin_dsn: str, prefix: str = "conductor_tpl") -> str:
    """Create a database with the current schema, to copy with `create_database`; its name."""
    name = await create_database(admin_dsn, prefix)
    try:
        conn = await asyncpg.connect(with_database(admin_dsn, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()
    except BaseException:
        await drop_database(admin_dsn, name)
        raise
    return name


@contextlib.asynccontextmanager
async def scratch_database(
    admin_dsn: str, prefix: str, template: str | None = None
) -> AsyncIterator[str]:
    """A new database for the block: yields its URL, drops it afterwards."""
    name = await create_database(admin_dsn, prefix, template)
    try:
        yield with_database(admin_dsn, name)
    finally:
        await drop_database(admin_dsn, name)


async def _execute(admin_dsn: str, statement: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def _quoted(name: str) -> str:
    if '"' in name:
        raise ValueError(f"database name with a double quote: {name!r}")
    return f'"{name}"'
