"""Where system-task work waits for room (the `Lane` of engine/task_types.py).

Work inside the server (scripts, jq, launching a workflow) shares one limit. Calls out of the
server (HTTP tasks, status webhooks) run in isolation lanes instead: one per TaskDef
`isolationGroupId`, a default one, and one for webhooks, each at most `lane_size` calls at a
time, so a slow endpoint holds up only its own lane, never the timers or the other lanes. A call
that finds its lane full waits a little; if the lane stays full its timer is put back for a
second instead of being held in memory (it would count against the timer service's claims and
could outlive its lease).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from conductor.clock import Clock
from conductor.engine.model import TaskState
from conductor.metrics import Metrics
from conductor.store.timers import ClaimedTimer
from conductor.timers.reschedule import TimerRescheduler

DEFAULT_LANE = "default"
WEBHOOK_LANE = "status-listener"  # workflow status webhooks, apart from HTTP tasks
# A call waits this long for room in its lane before it is put back for LANE_FULL_POSTPONE_MS,
# well inside the timer lease, so a waiting call is never claimed a second time.
LANE_WAIT_S = 5.0
LANE_FULL_POSTPONE_MS = 1000


def lane_of(task: TaskState) -> str:
    """A task's isolation lane: its TaskDef's isolationGroupId, or the shared default lane."""
    task_def = task.workflow_task.get("taskDefinition")
    group = task_def.get("isolationGroupId") if isinstance(task_def, dict) else None
    return group if isinstance(group, str) and group else DEFAULT_LANE


class _Lane:
    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.waiting = 0


class Lanes:
    def __init__(
        self,
        rescheduler: TimerRescheduler,
        clock: Clock,
        metrics: Metrics,
        *,
        local_limit: int = 4,
        lane_size: int = 32,
    ) -> None:
        self.rescheduler = rescheduler
        self.clock = clock
        self.metrics = metrics
        # The shared limit of work inside the server (`async with lanes.local:`).
        self.local = asyncio.Semaphore(local_limit)
        self.lane_size = lane_size
        self._lanes: dict[str, _Lane] = {}

    async def isolated(
        self, timer: ClaimedTimer, name: str, work: Callable[[bool], Awaitable[None]]
    ) -> None:
        """Run `work` in lane `name` (told whether it had to wait for room), or put the timer
        back when the lane stays full."""
        lane = self._lanes.setdefault(name, _Lane(self.lane_size))
        waited = lane.slots.locked()
        if lane.waiting >= self.lane_size:
            await self._postpone(timer, name)
            return
        lane.waiting += 1
        try:
            await asyncio.wait_for(lane.slots.acquire(), LANE_WAIT_S)
        except TimeoutError:
            await self._postpone(timer, name)
            return
        finally:
            lane.waiting -= 1
        try:
            await work(waited)
        finally:
            lane.slots.release()

    async def _postpone(self, timer: ClaimedTimer, lane: str) -> None:
        fire_at = self.clock.now_ms() + LANE_FULL_POSTPONE_MS
        async with self.local:
            await self.rescheduler.later(timer, fire_at, timer.payload)
        self.metrics.system_tasks_postponed.labels(lane).inc()
