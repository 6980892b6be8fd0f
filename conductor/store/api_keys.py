"""API keys, the token signing key and the audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

import asyncpg

from conductor.roles import Role
from conductor.store.pool import Conn
from conductor.store.values import ApiKey, AuditEntry

_KEY_COLUMNS = (
    "key_id, name, role, secret_hash, generation, task_types, domains,"
    " created_ms, last_used_ms, revoked_ms"
)


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


async def insert(conn: Conn, key: ApiKey) -> None:
    await conn.execute(
        f"INSERT INTO api_key ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        key.key_id,
        key.name,
        key.role.value,
        key.secret_hash,
        key.generation,
        None if key.task_types is None else sorted(key.task_types),
        None if key.domains is None else sorted(key.domains),
        key.created_ms,
        key.last_used_ms,
        key.revoked_ms,
    )


async def all_keys(conn: Conn) -> list[ApiKey]:
    rows = await conn.fetch(f"SELECT {_KEY_COLUMNS} FROM api_key ORDER BY created_ms, key_id")
    return [_key(row) for row in rows]


async def get(conn: Conn, key_id: str) -> ApiKey | None:
    row = await conn.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api_key WHERE key_id = $1", key_id)
    return None if row is None else _key(row)


async def any_exist(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM api_key)"))


async def replace_secret(conn: Conn, key_id: str, secret_hash: str) -> ApiKey | None:
    """A new secret for an active key; tokens of the old one stop working (new generation)."""
    row = await conn.fetchrow(
        "UPDATE api_key SET secret_hash = $2, generation = generation + 1"
        f" WHERE key_id = $1 AND revoked_ms IS NULL RETURNING {_KEY_COLUMNS}",
        key_id,
        secret_hash,
    )
    return None if row is None else _key(row)


async def revoke(conn: Conn, key_id: str, now_ms: int) -> ApiKey | None:
    row = await conn.fetchrow(
        "UPDATE api_key SET revoked_ms = coalesce(revoked_ms, $2)"
        f" WHERE key_id = $1 RETURNING {_KEY_COLUMNS}",
        key_id,
        now_ms,
    )
    return None if row is None else _key(row)


async def record_use(conn: Conn, last_used: Mapping[str, int]) -> None:
    """Move each key's last-used time forward (never back: several servers write it)."""
    if not last_used:
        return
    await conn.execute(
        "UPDATE api_key k SET last_used_ms = greatest(coalesce(k.last_used_ms, 0), u.at)"
        " FROM unnest($1::text[], $2::bigint[]) AS u(key_id, at) WHERE k.key_id = u.key_id",
        list(last_used),
        list(last_used.values()),
    )


async def signing_secret(conn: Conn) -> bytes:
    """The token signing key, made once by whichever server asks first."""
    await conn.execute(
        "INSERT INTO token_signing_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        secrets.token_bytes(32),
    )
    secret: bytes = await conn.fetchval("SELECT secret FROM token_signing_key WHERE id = 1")
    return secret


async def add_audit(conn: Conn, entries: Iterable[AuditEntry]) -> None:
    await conn.executemany(
        "INSERT INTO audit_log (at_ms, principal, role, action, target, status)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(e.at_ms, e.principal, e.role, e.action, e.target, e.status) for e in entries],
    )


async def audit_trail(conn: Conn, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    rows = await conn.fetch(
        "SELECT id, at_ms, principal, role, action, target, status FROM audit_log"
        " WHERE $2::bigint IS NULL OR id < $2 ORDER BY id DESC LIMIT $1",
        limit,
        before_id,
    )
    return [AuditEntry(**dict(row)) for row in rows]
