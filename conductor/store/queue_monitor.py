"""What the queue monitor reads: each queue's depth and oldest waiting task, and the workers
seen polling it (poll_data keeps only the last one; poll_worker keeps each)."""

from __future__ import annotations

from dataclasses import dataclass

from conductor.store.pool import Conn
from conductor.store.queries import sql


@dataclass(frozen=True)
class QueueDepth:
    queue_name: str
    size: int  # every row, delayed ones too (Conductor's queue size)
    ready: int  # pollable now
    oldest_ready: int | None  # when the longest-waiting pollable task became pollable


async def depths(conn: Conn, now: int) -> list[QueueDepth]:
    return [
        QueueDepth(r["queue_name"], r["size"], r["ready"], r["oldest_ready"])
        for r in await conn.fetch(sql("task_queue_overview"), now)
    ]


async def save_workers(
    conn: Conn, sightings: list[tuple[str, str, str, int]], forget_before: int
) -> None:
    """Upsert (queue_name, domain, worker_id, last_poll_time) rows; drop those older than
    `forget_before`."""
    await conn.executemany(sql("poll_worker_upsert"), sightings)
    await conn.execute(sql("poll_worker_prune"), forget_before)


async def worker_counts(conn: Conn, since: int) -> dict[str, int]:
    """Distinct workers per queue name seen polling after `since`."""
    found = await conn.fetch(sql("poll_worker_counts"), since)
    return {r["queue_name"]: int(r["workers"]) for r in found}


async def running_workflows(conn: Conn) -> dict[tuple[str, str], int]:
    """(workflow type, RUNNING or PAUSED) -> count."""
    rows = await conn.fetch(sql("workflow_running_counts"))
    return {(r["name"], r["status"]): int(r["running"]) for r in rows}


async def in_progress_tasks(conn: Conn) -> dict[str, int]:
    """Task type -> tasks IN_PROGRESS."""
    rows = await conn.fetch(sql("task_in_progress_counts_by_type"))
    return {r["task_type"]: int(r["in_progress"]) for r in rows}
