"""Event handlers and the messages they act on (the `conductor` queue's outbox)."""

from __future__ import annotations

import asyncpg

from conductor.engine.model import JSON
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.values import QueuedMessage


async def insert_handler(conn: Conn, handler: JSON) -> bool:
    name = await conn.fetchval(
        sql("event_handler_insert"),
        handler["name"],
        handler["event"],
        bool(handler.get("active", True)),
        handler,
    )
    return name is not None


async def update_handler(conn: Conn, handler: JSON) -> bool:
    name = await conn.fetchval(
        sql("event_handler_update"),
        handler["name"],
        handler["event"],
        bool(handler.get("active", True)),
        handler,
    )
    return name is not None


async def delete_handler(conn: Conn, name: str) -> bool:
    return await conn.fetchval(sql("event_handler_delete"), name) is not None


async def get_handler(conn: Conn, name: str) -> JSON | None:
    row = await conn.fetchrow(sql("event_handler_get"), name)
    return None if row is None else dict(row["body"])


async def list_handlers(conn: Conn) -> list[JSON]:
    return [r["body"] for r in await conn.fetch(sql("event_handler_list"))]


async def handlers_for(conn: Conn, event: str, active_only: bool = True) -> list[JSON]:
    return [r["body"] for r in await conn.fetch(sql("event_handler_for_event"), event, active_only)]


async def count_active_not_consumed(conn: Conn, consumed_types: list[str]) -> int:
    """Active handlers whose event is not `type:queue` with one of `consumed_types`."""
    return int(await conn.fetchval(sql("event_handler_count_not_consumed"), consumed_types))


async def claim_messages(conn: Conn, limit: int) -> list[QueuedMessage]:
    """Lock the oldest messages (call inside a transaction; delete them before commit)."""
    return _messages(await conn.fetch(sql("event_message_claim"), limit))


async def messages(conn: Conn, queue: str, limit: int = 100) -> list[QueuedMessage]:
    """The messages waiting on one queue, oldest first."""
    return _messages(await conn.fetch(sql("event_message_list"), queue, limit))


def _messages(found: list[asyncpg.Record]) -> list[QueuedMessage]:
    return [
        QueuedMessage(r["id"], r["queue"], r["message_id"], r["payload"], r["created_time"])
        for r in found
    ]


async def delete_messages(conn: Conn, ids: list[int]) -> None:
    await conn.execute(sql("event_message_delete"), ids)


async def publish(conn: Conn, queue: str, message_id: str, payload: JSON, now: int) -> None:
    """Put one message on a queue (an external publish: /api/queue/update)."""
    await conn.execute(sql("event_message_insert"), queue, message_id, payload, now)


async def queue_sizes(conn: Conn, queues: list[str]) -> dict[str, int]:
    rows = await conn.fetch(sql("event_message_counts"), queues)
    counts = {r["queue"]: int(r["n"]) for r in rows}
    return {queue: counts.get(queue, 0) for queue in queues}
