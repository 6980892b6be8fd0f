"""/taskQueue, the queue monitor: per queue (task type and domain) its depth, how long its oldest
task has waited, the workers seen polling it, and whether anyone polls it at all. The page
refreshes itself with htmx at the interval kept in its URL."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from conductor.api.keys import CLOCK, POLLER, POOL
from conductor.store import queue_monitor
from conductor.store import tasks as task_store
from conductor.store.values import PollRecord
from conductor.ui.frame import page, reading_page

REFRESH_SECONDS = (1, 10, 30, 60)
DEFAULT_REFRESH = 10
RECENT_WORKER_MS = 5 * 60_000  # "workers seen recently"
NOBODY_POLLING_MS = 60_000  # work waiting and no poll for this long: flagged


@dataclass(frozen=True)
class QueueRow:
    name: str
    task_type: str
    domain: str
    size: int
    ready: int
    oldest_wait_ms: int | None
    workers: int
    poll: PollRecord | None
    nobody_polling: bool


def _split(name: str) -> tuple[str, str]:
    """(domain, task type) of a queue name, which is `domain:taskType` with a domain."""
    domain, _, task_type = name.rpartition(":")
    return domain, task_type


def _refresh(request: web.Request) -> int:
    wanted = request.query.get("refresh", "")
    return int(wanted) if wanted.isdigit() and int(wanted) in REFRESH_SECONDS else DEFAULT_REFRESH


@reading_page
async def task_queues(request: web.Request) -> web.StreamResponse:
    await request.app[POLLER].flush_poll_data()
    now = request.app[CLOCK].now_ms()
    async with request.app[POOL].acquire() as conn:
        depths = {d.queue_name: d for d in await queue_monitor.depths(conn, now)}
        polls = {p.queue_name: p for p in await task_store.poll_data(conn, None)}
        workers = await queue_monitor.worker_counts(conn, now - RECENT_WORKER_MS)
    wanted = request.query.get("name", "").strip()
    rows = []
    for name in sorted(set(depths) | set(polls)):
        if wanted.lower() not in name.lower():
            continue
        depth, poll = depths.get(name), polls.get(name)
        ready = depth.ready if depth else 0
        oldest = depth.oldest_ready if depth else None
        domain, task_type = _split(name)
        rows.append(
            QueueRow(
                name=name,
                task_type=task_type,
                domain=domain,
                size=depth.size if depth else 0,
                ready=ready,
                oldest_wait_ms=None if oldest is None else max(0, now - oldest),
                workers=workers.get(name, 0),
                poll=poll,
                nobody_polling=ready > 0
                and (poll is None or now - poll.last_poll_time > NOBODY_POLLING_MS),
            )
        )
    return page(
        request,
        "task_queues.html",
        queues=rows,
        now=now,
        name=wanted,
        refresh=_refresh(request),
        refresh_choices=REFRESH_SECONDS,
    )
