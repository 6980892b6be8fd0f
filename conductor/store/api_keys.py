"""API keys, the token signing key and the audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

import asyncpg

from conductor.roles import Role
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.values import ApiKey, AuditEntry


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        role=Role(row["role"]),
        secret_hash=row["secret_hash"],
        generation=row["generation"],
        task_types=None if row["task_types"] is None else frozenset(row["task_types"]),
        domains=None if row["domains"] is None else frozenset(row["domains"]),
        created_ms=row["created_ms"],
        last_used_ms=row["last_used_ms"],
        revoked_ms=row["revoked_ms"],
    )


def _names(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


async def insert(conn: Conn, key: ApiKey) -> None:
    await conn.execute(
        sql("api_key_insert"),
        key.key_id,
        key.name,
        key.role.value,
        key.secret_hash,
        key.generation,
        _names(key.task_types),
        _names(key.domains),
        key.created_ms,
        key.last_used_ms,
        key.revoked_ms,
    )


async def all_keys(conn: Conn) -> list[ApiKey]:
    return [_key(row) for row in await conn.fetch(sql("api_key_list"))]


async def replace_secret(conn: Conn, key_id: str, secret_hash: str) -> ApiKey | None:
    """A new secret for an active key; tokens of the old one stop working (new generation)."""
    row = await conn.fetchrow(sql("api_key_replace_secret"), key_id, secret_hash)
    return None if row is None else _key(row)


async def revoke(conn: Conn, key_id: str, now_ms: int) -> ApiKey | None:
    row = await conn.fetchrow(sql("api_key_revoke"), key_id, now_ms)
    return None if row is None else _key(row)


async def record_use(conn: Conn, last_used: Mapping[str, int]) -> None:
    if last_used:
        await conn.execute(sql("api_key_record_use"), list(last_used), list(last_used.values()))


async def signing_secret(conn: Conn) -> bytes:
    await conn.execute(sql("token_signing_key_create"), secrets.token_bytes(32))
    secret: bytes = await conn.fetchval(sql("token_signing_key_get"))
    return secret


async def add_audit(conn: Conn, entries: Iterable[AuditEntry]) -> None:
    async with conn.transaction():
        for e in entries:
            audit_id = await conn.fetchval(
                sql("audit_insert"),
                e.at_ms,
                e.principal,
                e.role,
                e.action,
                e.target,
                e.status,
                e.via,
            )
            if e.workflow_ids:
                await conn.execute(sql("audit_subjects_insert"), audit_id, list(e.workflow_ids))


def _audit_entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(**{**dict(row), "workflow_ids": tuple(row["workflow_ids"])})


async def audit_trail(conn: Conn, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    rows = await conn.fetch(sql("audit_list"), limit, before_id)
    return [_audit_entry(row) for row in rows]


async def audit_of_workflow(conn: Conn, workflow_id: str, limit: int) -> list[AuditEntry]:
    """The entries that touched one workflow, newest first."""
    rows = await conn.fetch(sql("audit_of_workflow"), workflow_id, limit)
    return [_audit_entry(row) for row in rows]
