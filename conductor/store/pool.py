"""asyncpg pool factory: JSON codecs on every connection, server-side statement timeout."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

# Store functions accept a plain connection or one borrowed from the pool. A string annotation:
# asyncpg's classes are generic only in its type stubs.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

STATEMENT_TIMEOUT_MS = 60_000


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog"
        )


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Cheap reset on release: we never LISTEN, take session locks or change session settings
    on pooled connections, so asyncpg's full reset (four statements, a round trip and a commit)
    is waste. Only an unfinished transaction must not leak to the next borrower."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_reset_connection,
        # Enforced by PostgreSQL: a client-side command_timeout arms an event-loop timer per query.
        server_settings={"statement_timeout": str(STATEMENT_TIMEOUT_MS)},
        # A server restart or failover must not leave dead connections in the pool for long.
        max_inactive_connection_lifetime=300,
    )
