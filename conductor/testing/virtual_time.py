"""Virtual time: run workflows that wait days, months or years in seconds.

The server reads time only through its `Clock`. With a `ManualClock` and background services off,
`VirtualTime.run()` fires whatever is due, and when nothing is runnable any more it moves the
clock straight to the next timer or schedule fire time, and repeats. A 24-month billing workflow
then runs in a few seconds, with every timer, retry back-off and schedule behaving exactly as it
would in real time, because they are the same rows and the same code.

    app = create_app(Settings(database_url=url, run_background_services=False), clock=ManualClock())
    virtual = VirtualTime(app)
    ...start a workflow through the API...
    await virtual.run(until=lambda: workflow_finished(workflow_id))

Worker tasks still need workers: a test completes them through the API between runs (or use
system tasks). `run()` returns when `until` holds, or when no timer or schedule is left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from conductor.api.keys import CLOCK, POOL
from conductor.app import SCHEDULE_SERVICE, TIMER_SERVICE
from conductor.clock import ManualClock
from conductor.store import schedules as schedule_store
from conductor.store import timers as timer_store

Condition = Callable[[], Awaitable[bool]]


class VirtualTime:
    def __init__(self, app: web.Application) -> None:
        clock = app[CLOCK]
        if not isinstance(clock, ManualClock):
            raise TypeError("virtual time needs the app built with a ManualClock")
        self.app = app
        self.clock = clock
        self.jumps = 0

    async def step(self) -> int:
        """Fire everything due now (timers, then schedules); returns how many fired."""
        fired = 0
        while (batch := await self.app[TIMER_SERVICE].run_once()) > 0:
            fired += batch
        fired += await self.app[SCHEDULE_SERVICE].run_once()
        return fired

    async def next_due(self) -> int | None:
        async with self.app[POOL].acquire() as conn:
            due = [await timer_store.next_fire_at(conn), await schedule_store.next_run(conn)]
        known = [d for d in due if d is not None]
        return min(known) if known else None

    async def run(self, until: Condition | None = None, max_jumps: int = 100_000) -> bool:
        """Fire and jump until `until` holds (True) or nothing is left to wait for (False)."""
        for _ in range(max_jumps):
            await self.step()
            if until is not None and await until():
                return True
            due = await self.next_due()
            if due is None:
                return False
            if due > self.clock.now_ms():
                self.clock.set(due)
                self.jumps += 1
        raise RuntimeError(f"virtual time made {max_jumps} jumps without finishing")
