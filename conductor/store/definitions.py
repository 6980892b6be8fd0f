"""Task and workflow definitions (metadata)."""

from __future__ import annotations

import asyncpg

from conductor.engine.model import JSON
from conductor.store.pool import Conn
from conductor.store.queries import sql


def _with_times(row: asyncpg.Record) -> JSON:
    body: JSON = dict(row["body"])
    body["createTime"] = row["create_time"]
    body["updateTime"] = row["update_time"]
    return body


async def upsert_task_defs(conn: Conn, defs: list[JSON], now: int) -> None:
    await conn.executemany(sql("task_def_upsert"), [(d["name"], d, now) for d in defs])


async def update_task_def(conn: Conn, task_def: JSON, now: int) -> bool:
    return await conn.fetchval(sql("task_def_update"), task_def["name"], task_def, now) is not None


async def get_task_def(conn: Conn, name: str) -> JSON | None:
    row = await conn.fetchrow(sql("task_def_get"), name)
    return None if row is None else _with_times(row)


async def get_task_defs(conn: Conn, names: list[str]) -> dict[str, JSON]:
    found = await conn.fetch(sql("task_def_get_many"), names)
    return {r["name"]: _with_times(r) for r in found}


async def list_task_defs(conn: Conn) -> list[JSON]:
    return [_with_times(r) for r in await conn.fetch(sql("task_def_list"))]


async def delete_task_def(conn: Conn, name: str) -> bool:
    return await conn.fetchval(sql("task_def_delete"), name) is not None


async def insert_workflow_def(conn: Conn, definition: JSON, now: int) -> bool:
    """Register a new version; False when that name and version exist already."""
    name, version = definition["name"], definition["version"]
    return (
        await conn.fetchval(sql("workflow_def_insert"), name, version, definition, now) is not None
    )


async def upsert_workflow_def(conn: Conn, definition: JSON, now: int) -> None:
    name, version = definition["name"], definition["version"]
    await conn.execute(sql("workflow_def_upsert"), name, version, definition, now)


async def get_workflow_def(conn: Conn, name: str, version: int | None) -> JSON | None:
    if version is None:
        row = await conn.fetchrow(sql("workflow_def_get_latest"), name)
    else:
        row = await conn.fetchrow(sql("workflow_def_get"), name, version)
    return None if row is None else _with_times(row)


async def list_workflow_defs(conn: Conn, latest_only: bool = False) -> list[JSON]:
    query = sql("workflow_def_latest_versions") if latest_only else sql("workflow_def_list")
    return [_with_times(r) for r in await conn.fetch(query)]


async def delete_workflow_def(conn: Conn, name: str, version: int) -> bool:
    return await conn.fetchval(sql("workflow_def_delete"), name, version) is not None
