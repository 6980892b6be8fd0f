"""Managing API keys: create, list, rotate, revoke. Used by the admin API and `conductor keys`.

A key's secret is shown once, when it is made; only an argon2id hash of it is stored. Secrets
are 256 random bits, so the hash needs no more than OWASP's minimum cost (19 MiB, 2 passes, about
20 ms); a higher cost would only let a flood of wrong secrets at POST /api/token eat the CPU.
Hashing runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from conductor.clock import Clock
from conductor.errors import BadRequest, NotFound
from conductor.roles import Role
from conductor.store import api_keys as store
from conductor.store.values import ApiKey

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, secret)


async def secret_matches(secret_hash: str, secret: str) -> bool:
    def verify() -> bool:
        try:
            return _HASHER.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@dataclass(frozen=True)
class IssuedKey:
    """A key and its secret in clear, which exists only in this answer."""

    key: ApiKey
    secret: str


def parse_role(value: object) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise BadRequest(f"Unknown role {value!r}: expected one of {names}") from None


def _scope(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    cleaned = frozenset(v.strip() for v in values if v.strip())
    return cleaned or None


class KeyAdmin:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        on_change: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.pool = pool
        self.clock = clock
        # This server's key ring reloads at once; other servers within their refresh period.
        self._on_change = on_change

    async def create(
        self,
        role: Role,
        *,
        name: str = "",
        task_types: Iterable[str] | None = None,
        domains: Iterable[str] | None = None,
    ) -> IssuedKey:
        secret = _new_secret()
        key = ApiKey(
            key_id=str(uuid.uuid4()),
            name=name,
            role=role,
            secret_hash=await hash_secret(secret),
            generation=1,
            task_types=_scope(task_types),
            domains=_scope(domains),
            created_ms=self.clock.now_ms(),
            last_used_ms=None,
            revoked_ms=None,
        )
        async with self.pool.acquire() as conn:
            await store.insert(conn, key)
        await self._changed()
        return IssuedKey(key, secret)

    async def keys(self) -> list[ApiKey]:
        async with self.pool.acquire() as conn:
            return await store.all_keys(conn)

    async def rotate(self, key_id: str) -> IssuedKey:
        secret = _new_secret()
        secret_hash = await hash_secret(secret)
        async with self.pool.acquire() as conn:
            key = await store.replace_secret(conn, key_id, secret_hash)
        if key is None:
            raise NotFound(f"No active API key with id {key_id}")
        await self._changed()
        return IssuedKey(key, secret)

    async def revoke(self, key_id: str) -> ApiKey:
        async with self.pool.acquire() as conn:
            key = await store.revoke(conn, key_id, self.clock.now_ms())
        if key is None:
            raise NotFound(f"No API key with id {key_id}")
        await self._changed()
        return key

    async def _changed(self) -> None:
        if self._on_change is not None:
            await self._on_change()
