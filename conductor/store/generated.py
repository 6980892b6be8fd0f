"""Executions generated inside PostgreSQL, for benchmarks that need a large store.

One set-based statement (`INSERT ... SELECT ... FROM generate_series`) writes a batch of runs in
the row shape the server writes (`workflow_insert`, `rows.workflow_body`), far faster than
running that many through the API. The runs have no task rows: list pages never read them.
"""

from __future__ import annotations

from conductor.engine.model import JSON
from conductor.store.execution_definitions import definition_id
from conductor.store.pool import Conn
from conductor.store.queries import sql


async def generate_executions(
    conn: Conn, definition: JSON, first: int, last: int, newest_ms: int, step_ms: int
) -> None:
    """Runs `first`..`last` of `definition`, run g started at newest_ms - g * step_ms."""
    key = definition_id(definition)
    await conn.execute(sql("execution_definition_insert"), key, definition)
    await conn.execute(
        sql("generated_executions_insert"),
        first,
        last,
        key,
        definition["name"],
        definition.get("version", 1),
        newest_ms,
        step_ms,
    )


async def settle(conn: Conn) -> None:
    """Vacuum and analyse the workflow table, as autovacuum would after a while (counts can
    then be answered from an index alone)."""
    await conn.execute(sql("generated_settle"))
