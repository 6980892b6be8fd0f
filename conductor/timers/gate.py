"""TimerGate: sleep until the next known due time, waking early when an earlier timer is written.

Only the earliest wake-up matters, so the gate keeps one deadline and moves it only earlier while
armed (Temporal's LocalGate). Sleeping uses the event loop's monotonic clock; due times compared
with the wall clock come from `Clock`, so a wall-clock jump never fires a timer early.
"""

from __future__ import annotations

import asyncio

from conductor.wakeups import Wakeups, wait_for


class TimerGate:
    def __init__(self, wakeups: Wakeups) -> None:
        self._wakeups = wakeups
        self._event = wakeups.timer_listener()

    async def sleep(self, seconds: float, next_due_ms: int | None, now_ms: int) -> None:
        """Sleep up to `seconds`, or until a timer due before `next_due_ms` is written."""
        earliest = self._wakeups.earliest_new_timer
        if earliest is not None and (next_due_ms is None or earliest < next_due_ms):
            if earliest <= now_ms:
                self._consume()
                return
            seconds = min(seconds, (earliest - now_ms) / 1000)
        self._event.clear()
        woke = await wait_for(self._event, max(seconds, 0.0))
        if woke:
            await asyncio.sleep(0)  # let the writer's burst of timers land before re-reading
        self._consume()

    def _consume(self) -> None:
        self._wakeups.earliest_new_timer = None
        self._event.clear()
