"""TimerGate: sleep until the next known due time, waking early only for an earlier timer.

Only the earliest wake-up matters, so the gate keeps one deadline and is woken only by a timer due
before it (Temporal's LocalGate): a busy server arms a lease timer with every poll, and none of
those may cost the timer service a database round. Sleeping uses the event loop's monotonic clock;
due times compared with the wall clock come from `Clock`, so a wall-clock jump never fires a
timer early.
"""

from __future__ import annotations

import asyncio

from conductor.wakeups import Wakeups, wait_for


class TimerGate:
    def __init__(self, wakeups: Wakeups) -> None:
        self._event = asyncio.Event()
        self._sleeping_until: int | None = None
        # Earliest timer announced since the service last looked at the database.
        self._announced: int | None = None
        wakeups.add_timer_listener(self._on_timer)

    def _on_timer(self, fire_at: int) -> None:
        if self._announced is None or fire_at < self._announced:
            self._announced = fire_at
        if self._sleeping_until is not None and fire_at < self._sleeping_until:
            self._event.set()

    async def sleep(self, seconds: float, now_ms: int) -> None:
        """Sleep up to `seconds`, or until a timer due earlier than that is announced."""
        deadline = now_ms + int(seconds * 1000)
        announced, self._announced = self._announced, None
        if announced is not None and announced < deadline:
            if announced <= now_ms:
                return
            deadline = announced
        self._event.clear()
        self._sleeping_until = deadline
        try:
            await wait_for(self._event, (deadline - now_ms) / 1000)
        finally:
            self._sleeping_until = None
