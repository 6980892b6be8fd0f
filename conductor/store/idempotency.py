"""Idempotent starts: who holds a (workflow name, idempotencyKey), claimed with a unique key."""

from __future__ import annotations

from dataclasses import dataclass

from conductor.store.pool import Conn
from conductor.store.queries import sql


@dataclass(frozen=True)
class Holder:
    workflow_id: str
    status: str


async def claim(conn: Conn, name: str, key: str, workflow_id: str) -> Holder | None:
    """Give the key to `workflow_id`; returns the current holder instead when it is taken."""
    if await conn.fetchval(sql("idempotency_claim"), name, key, workflow_id) is not None:
        return None
    row = await conn.fetchrow(sql("idempotency_holder"), name, key)
    if row is None:  # the holder was removed meanwhile: the key is free again
        return await claim(conn, name, key, workflow_id)
    return Holder(row["workflow_id"], row["status"])


async def hand_over(conn: Conn, name: str, key: str, workflow_id: str) -> None:
    await conn.execute(sql("idempotency_hand_over"), name, key, workflow_id)
