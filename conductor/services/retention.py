"""Retention: removes finished workflows older than the configured age, in small batches.

Each batch is one short statement (SKIP LOCKED, so it never waits for a running transition) and
the service pauses between batches, so a large backlog drains steadily without crowding the hot
path. With archiving on, a removed run's rows are kept as one document in `workflow_archive`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    batch: int = 100
    pause_ms: int = 100  # between batches while a backlog drains
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
            try:
                removed = await self.run_once()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("retention round failed, retrying later: %s", exc)
                removed = 0
            pause = self.policy.pause_ms if removed >= self.policy.batch else self.policy.idle_ms
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause / 1000)

    def stop(self) -> None:
        self._stopping.set()
