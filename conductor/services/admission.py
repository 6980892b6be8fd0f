"""Admission of new starts: work already running goes first when the server is saturated.

A start and a task result cost about the same (a transaction, a decision), and both want the
same connections and the one event loop. Left alone, a flood of starts (a billing run at
midnight) takes all of them, and every running workflow's next step waits behind it: with 64
starts in flight, tasks reached their workers up to 10 s after they were scheduled
(bench.mixed_load, M1), and the step after a WAIT 20 s late (M3).

So at most `concurrency` new starts run at once (a sub-workflow's start is running work and is
not counted); the others wait at the gate, in arrival order, without holding a connection,
while polls, task results and timers go ahead. A start is never dropped: it waits its turn, or,
when `max_backlog` starts are already waiting, it is refused at once with 429 and Retry-After
(off unless configured), so a client backs off instead of piling on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from conductor.errors import TooManyRequests
from conductor.metrics import Metrics

RETRY_AFTER_S = 1


class StartAdmission:
    def __init__(self, metrics: Metrics, concurrency: int, max_backlog: int = 0) -> None:
        """`concurrency` 0 admits every start at once (no gate); `max_backlog` 0: no refusals."""
        self.metrics = metrics
        self.concurrency = concurrency
        self.max_backlog = max_backlog
        self._slots = asyncio.Semaphore(concurrency) if concurrency > 0 else None
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one start slot for the block, waiting for it first if all are taken."""
        if self._slots is None:
            yield
            return
        if self.max_backlog and self.waiting >= self.max_backlog:
            self.metrics.starts_refused.inc()
            raise TooManyRequests(
                f"The server is busy: {self.waiting} workflow starts are waiting. "
                f"Retry after {RETRY_AFTER_S} s.",
                retry_after_s=RETRY_AFTER_S,
            )
        self.waiting += 1
        self.metrics.start_backlog.set(self.waiting)
        began = time.perf_counter()
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
            self.metrics.start_backlog.set(self.waiting)
        self.metrics.start_admission_seconds.observe(time.perf_counter() - began)
        try:
            yield
        finally:
            self._slots.release()
