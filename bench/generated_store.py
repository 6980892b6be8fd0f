"""Stored workflows generated inside PostgreSQL, for the benches that need a large store.

One `INSERT INTO workflow ... SELECT ... FROM generate_series` statement writes a whole batch
of rows the way the server stores them, far faster than running that many workflows through
the API. Each bench writes its own SELECT (names, statuses, times) after `WORKFLOW_INSERT`.
"""

from __future__ import annotations

import asyncpg

WORKFLOW_INSERT = """
INSERT INTO workflow (workflow_id, name, version, status, correlation_id, priority,
                      parent_workflow_id, create_time, update_time, end_time, revision,
                      definition_id, body)
"""


async def add_definition(conn: asyncpg.Connection, definition_id: str, body: str) -> None:
    """The execution definition (JSON text) that the generated workflows point at."""
    await conn.execute(
        "INSERT INTO execution_definition (definition_id, body) VALUES ($1, $2::jsonb)"
        " ON CONFLICT DO NOTHING",
        definition_id,
        body,
    )
