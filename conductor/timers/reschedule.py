"""Putting a claimed timer back for later (a full isolation lane, a webhook to try again).

The row keeps its key, so the timer stays the only live one of its kind and owner; this server's
timer service is told, since it holds the timer and no commit announces the new time.
"""

from __future__ import annotations

import asyncpg

from conductor.store import timers as timer_store
from conductor.store.timers import ClaimedTimer
from conductor.wakeups import Wakeups


class TimerRescheduler:
    def __init__(self, pool: asyncpg.Pool, wakeups: Wakeups) -> None:
        self.pool = pool
        self.wakeups = wakeups

    async def later(self, timer: ClaimedTimer, fire_at: int, payload: str | None) -> None:
        """Fire `timer` again at `fire_at`, with `payload` (its own, or a new one)."""
        async with self.pool.acquire() as conn:
            await timer_store.reschedule(conn, timer.key, timer.claimed_fire_at, fire_at, payload)
        self.wakeups.timer_due(fire_at)
