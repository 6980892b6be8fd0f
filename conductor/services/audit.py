"""The audit trail: who made each operator or admin change, and when."""

from __future__ import annotations

import asyncpg

from conductor.clock import Clock
from conductor.roles import Principal
from conductor.store import api_keys as store
from conductor.store.values import AuditEntry


class AuditTrail:
    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self.pool = pool
        self.clock = clock

    async def record(self, principal: Principal, action: str, target: str, status: int) -> None:
        entry = AuditEntry(
            None, self.clock.now_ms(), principal.name, principal.role.value, action, target, status
        )
        async with self.pool.acquire() as conn:
            await store.add_audit(conn, [entry])

    async def entries(self, limit: int, before_id: int | None = None) -> list[AuditEntry]:
        async with self.pool.acquire() as conn:
            return await store.audit_trail(conn, limit, before_id)
