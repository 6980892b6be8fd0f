"""Retention: removes finished workflows older than the configured age, in small batches.

Each batch is one short statement (SKIP LOCKED, so it never waits for a running transition), and
between batches the service rests several times as long as the batch took, so a large backlog
drains steadily while taking only a small share of the database's time from the hot path.
With archiving on, a removed run's rows are kept as one document in `workflow_archive`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import asyncpg

from conductor.clock import Clock
from conductor.metrics import Metrics
from conductor.store import retention as store

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_days: float  # remove workflows that ended longer ago than this
    archive: bool = False
    batch: int = 10
    # While a backlog drains, rest this many times as long as each batch took (and at least
    # pause_ms): purging then takes at most 1 / (1 + duty_rest) of one connection's time.
    duty_rest: float = 19.0
    pause_ms: int = 20
    idle_ms: int = 60_000  # between rounds once nothing is due


class RetentionService:
    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, metrics: Metrics, policy: RetentionPolicy
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.metrics = metrics
        self.policy = policy
        self._stopping = asyncio.Event()

    async def run_once(self) -> int:
        """Remove one batch; returns how many workflows went."""
        now = self.clock.now_ms()
        cutoff = now - int(self.policy.max_age_days * DAY_MS)
        async with self.pool.acquire() as conn:
            removed = await store.purge(conn, cutoff, self.policy.batch, self.policy.archive, now)
        if removed:
            self.metrics.workflows_purged.inc(removed)
        return removed

    async def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                removed = await self.run_once()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("retention round failed, retrying later: %s", exc)
                removed = 0
            took_ms = (time.monotonic() - started) * 1000
            busy = max(self.policy.pause_ms, self.policy.duty_rest * took_ms)
            pause = busy if removed >= self.policy.batch else self.policy.idle_ms
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause / 1000)

    def stop(self) -> None:
        self._stopping.set()
