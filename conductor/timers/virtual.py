"""The dev server's virtual clock (`conductor server --virtual-clock`).

When nothing can run (no due timer, no pollable task, no task held by a worker) for a short
while, the clock jumps to the next timer or schedule fire time. A workflow that waits a month
then continues at once, with real workers polling it as usual. For throwaway instances only:
the jumps are not undone, so stored times run ahead of the wall clock.
"""

from __future__ import annotations

import logging

import asyncpg

from conductor.clock import JumpingClock
from conductor.store import schedules as schedule_store
from conductor.store import timers as timer_store
from conductor.wakeups import Wakeups

log = logging.getLogger(__name__)


class VirtualClockDriver:
    def __init__(self, pool: asyncpg.Pool, clock: JumpingClock, wakeups: Wakeups) -> None:
        self.pool = pool
        self.clock = clock
        self.wakeups = wakeups

    async def jump_if_idle(self) -> int | None:
        """Jump to the next due time if nothing is runnable; returns the new time, if any."""
        now = self.clock.now_ms()
        async with self.pool.acquire() as conn:
            if await timer_store.anything_runnable(conn, now):
                return None
            due = [await timer_store.next_fire_at(conn), await schedule_store.next_run(conn)]
        known = [d for d in due if d is not None]
        if not known or min(known) <= now:
            return None
        target = min(known)
        self.clock.jump_to(target)
        log.info("virtual clock jumped %.0f s ahead", (target - now) / 1000)
        # The timer service sleeps until a deadline computed before the jump: wake it now.
        self.wakeups.timer_due(0)
        return target
