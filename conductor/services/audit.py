"""The audit trail: who made each operator or admin change, when, from where (the web UI or
another client), and which workflows it touched."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from conductor.clock import Clock
from conductor.roles import Principal
from conductor.store import api_keys as store
from conductor.store.values import AuditEntry


class AuditTrail:
    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self.pool = pool
        self.clock = clock

    async def record(
        self,
        principal: Principal,
        action: str,
        target: str,
        status: int,
        *,
        via: str = "api",
        workflow_ids: Iterable[str] = (),
    ) -> None:
        entry = AuditEntry(
            None,
            self.clock.now_ms(),
            principal.name,
            principal.role.value,
            action,
            target,
            status,
            via,
            tuple(dict.fromkeys(workflow_ids)),
        )
        async with self.pool.acquire() as conn:
            await store.add_audit(conn, [entry])

    async def entries(self, limit: int, before_id: int | None = None) -> list[AuditEntry]:
        async with self.pool.acquire() as conn:
            return await store.audit_trail(conn, limit, before_id)

    async def of_workflow(self, workflow_id: str, limit: int = 100) -> list[AuditEntry]:
        """What was done to one workflow, newest first."""
        async with self.pool.acquire() as conn:
            return await store.audit_of_workflow(conn, workflow_id, limit)
