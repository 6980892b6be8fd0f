"""The timer service: fires due timers from PostgreSQL through the normal transition path.

PostgreSQL is the only source of truth. Each round claims a batch of due timers (SKIP LOCKED, so
several servers share the work), pushing their fire time out by a lease; firing deletes the row in
the transition's own transaction, so a crash between claim and fire only delays it by the lease.
Timers are wake-ups: the decider re-checks the state, so firing one twice does nothing harmful.
Between rounds the service sleeps until the next due time (bounded by a safety poll) and wakes
early when a transition writes an earlier timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from conductor.clock import Clock
from conductor.engine.decision import TimerKind
from conductor.engine.events import TerminateWorkflow, TimerFired
from conductor.errors import Conflict, NotFound
from conductor.executor import Executor
from conductor.metrics import Metrics
from conductor.services.broadcast import Broadcaster
from conductor.store import timers as timer_store
from conductor.store.timers import ClaimedTimer
from conductor.timers.gate import TimerGate
from conductor.wakeups import Wakeups

log = logging.getLogger(__name__)

# Runs a deferred system task for its SYSTEM_TASK timer (see services/system_task_runner.py).
SystemTaskHandler = Callable[[ClaimedTimer], Awaitable[None]]
_RUNNER_KINDS = frozenset({TimerKind.SYSTEM_TASK, TimerKind.SUBWORKFLOW_DONE})


class TimerService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        executor: Executor,
        wakeups: Wakeups,
        metrics: Metrics,
        broadcaster: Broadcaster | None = None,
        *,
        batch: int = 200,
        lease_ms: int = 30_000,
        max_idle_ms: int = 5_000,
        concurrency: int = 8,
        system_tasks: SystemTaskHandler | None = None,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.executor = executor
        self.wakeups = wakeups
        self.metrics = metrics
        self.broadcaster = broadcaster
        self.batch = batch
        self.lease_ms = lease_ms
        self.max_idle_ms = max_idle_ms
        self._limit = asyncio.Semaphore(concurrency)
        self.system_tasks = system_tasks
        self._gate = TimerGate(wakeups)
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                fired = await self.run_once()
                if fired >= self.batch:
                    continue  # more are due: no sleep
                await self._sleep_until_next()
                backoff = 0.05
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("timer round failed, retrying: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        self._stopping.set()
        self.wakeups.timers_written(0)

    async def run_once(self) -> int:
        """Claim and fire one batch of due timers; returns how many were claimed."""
        now = self.clock.now_ms()
        async with self.pool.acquire() as conn:
            claimed = await timer_store.claim_due(conn, now, self.batch, now + self.lease_ms)
        for timer in claimed:
            self.metrics.timer_lateness.observe(max(now - timer.due_at, 0) / 1000)
        if claimed:
            await asyncio.gather(*(self._fire(timer) for timer in claimed))
        return len(claimed)

    async def update_gauges(self) -> None:
        """Pending and due counts for /metrics (a count over the table: run it now and then)."""
        async with self.pool.acquire() as conn:
            pending, due = await timer_store.counts(conn, self.clock.now_ms())
        self.metrics.timers_pending.set(pending)
        self.metrics.timers_due.set(due)

    async def run_gauges(self, interval_s: float = 15.0) -> None:
        while not self._stopping.is_set():
            try:
                await self.update_gauges()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("could not count timers: %s", exc)
            await asyncio.sleep(interval_s)

    async def _sleep_until_next(self) -> None:
        async with self.pool.acquire() as conn:
            next_due = await timer_store.next_fire_at(conn)
        now = self.clock.now_ms()
        wait_ms = self.max_idle_ms if next_due is None else min(next_due - now, self.max_idle_ms)
        if wait_ms > 0 and not self._stopping.is_set():
            await self._gate.sleep(wait_ms / 1000, now)

    async def _fire(self, timer: ClaimedTimer) -> None:
        async with self._limit:
            try:
                kind = TimerKind(timer.kind)
            except ValueError:
                log.error("dropping timer %s of unknown kind %s", timer.key, timer.kind)
                await self._drop(timer)
                return
            try:
                if kind in _RUNNER_KINDS and self.system_tasks is not None:
                    await self.system_tasks(timer)
                elif kind is TimerKind.TERMINATE_WORKFLOW:
                    await self._terminate(timer)
                elif kind.needs_transition:
                    event = TimerFired(kind, timer.task_id)
                    await self.executor.transition(
                        timer.workflow_id, event, (timer.key, timer.claimed_fire_at)
                    )
                else:
                    await self._drop(timer)
                    self._wake_queue(timer.payload)
                self.metrics.timers_fired.labels(kind.value).inc()
            except NotFound:
                await self._drop(timer)  # its workflow was removed
            except Exception:
                # The row keeps its leased fire time, so the timer fires again after the lease.
                log.exception("timer %s failed to fire", timer.key)

    async def _terminate(self, timer: ClaimedTimer) -> None:
        try:
            await self.executor.transition(
                timer.workflow_id,
                TerminateWorkflow(timer.payload),
                (timer.key, timer.claimed_fire_at),
            )
        except Conflict:  # it completed on its own meanwhile
            await self._drop(timer)

    async def _drop(self, timer: ClaimedTimer) -> None:
        async with self.pool.acquire() as conn:
            await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)

    def _wake_queue(self, queue_name: str | None) -> None:
        if not queue_name:
            return
        self.wakeups.queues.wake(queue_name)
        if self.broadcaster is not None:
            self.broadcaster.publish_queues({queue_name})
