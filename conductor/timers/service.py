"""The timer service: fires due timers from PostgreSQL through the normal transition path.

PostgreSQL is the only source of truth. Each round claims a batch of due timers (SKIP LOCKED, so
several servers share the work), pushing their fire time out by a lease; firing deletes the row in
the transition's own transaction, so a crash between claim and fire only delays it by the lease.
Timers are wake-ups: the decider re-checks the state, so firing one twice does nothing harmful.
How each kind fires is in the routing table (timers/routes.py). Timers that only feed an input
to their workflow (WAIT, timeouts) fire in bulk: one transaction for a chunk of workflows, so a
burst of thousands due at once drains at batch speed.
Claiming is pipelined with firing: the claimer hands each batch to background tasks and claims
again at once, holding at most one batch unfired. The service has its own small pool, so a flood
of API requests never makes a due timer wait for a connection. When nothing more is due it sleeps
until the next due time (which the claim returns; bounded by a safety poll) and wakes early when
a transition writes an earlier timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import asyncpg

from conductor.background import BackgroundService
from conductor.clock import Clock
from conductor.engine.decision import TimerKind
from conductor.engine.inputs import Input, TerminateWorkflow
from conductor.errors import Conflict, NotFound
from conductor.executor import Executor, PendingInput
from conductor.metrics import Metrics
from conductor.store import timers as timer_store
from conductor.store.outages import is_unavailable
from conductor.store.timers import ClaimedTimer
from conductor.timers.gate import TimerGate
from conductor.timers.routes import HANDLER_KINDS, Firing, TimerRoute, route_of
from conductor.wakeups import Wakeups

log = logging.getLogger(__name__)
# Failed firings in a row after which a timer stops being retried (about 2.5 minutes at the
# default 30 s lease) and its workflow is terminated with the reason.
MAX_TIMER_FAILURES = 5
# A quarantined timer whose workflow could not be terminated either waits this long.
PARKED_TIMER_MS = 24 * 3600 * 1000
REASON_LIMIT = 1000

# Fires one timer of a HANDLER kind and reports through the transition path (which deletes the
# timer), or deletes or reschedules the timer itself.
TimerHandler = Callable[[ClaimedTimer], Awaitable[None]]
_MALFORMED = (ValueError, KeyError, TypeError)


class TimerService(BackgroundService):
    name = "timer-service"

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        executor: Executor,
        wakeups: Wakeups,
        metrics: Metrics,
        handlers: Mapping[TimerKind, TimerHandler],
        *,
        batch: int = 500,
        bulk_size: int = 200,
        lease_ms: int = 30_000,
        max_idle_ms: int = 5_000,
        concurrency: int = 8,
    ) -> None:
        missing = HANDLER_KINDS - set(handlers)
        if missing:
            raise ValueError(f"no handler for timer kinds {sorted(missing)}")
        super().__init__()
        self.pool = pool
        self.clock = clock
        self.executor = executor
        self.wakeups = wakeups
        self.metrics = metrics
        self.batch = batch
        self.bulk_size = bulk_size
        self.lease_ms = lease_ms
        self.max_idle_ms = max_idle_ms
        self._limit = asyncio.Semaphore(concurrency)
        self.handlers = dict(handlers)
        self._gate = TimerGate(wakeups)
        # Claimed timers whose firing has not finished, and the tasks firing them.
        self._outstanding = 0
        self._firing: set[asyncio.Task[None]] = set()
        self._progress = asyncio.Event()

    async def step(self) -> float:
        """Claim due timers and hand them to firing tasks. Claiming does not wait for firing:
        while one batch's transactions run, the next due timers are claimed, so a timer's
        lateness is about one claim round trip, not a whole firing round."""
        if self._outstanding >= self.batch:
            await self._firing_progress()  # enough in hand: let firing catch up
            return 0
        limit = self.batch - self._outstanding
        claimed, next_due = await self._claim(limit)
        self._dispatch(claimed)
        if len(claimed) < limit:  # nothing more is due now
            await self._sleep_until(next_due)
        return 0

    async def close(self) -> None:
        for task in list(self._firing):
            task.cancel()
        await asyncio.gather(*self._firing, return_exceptions=True)

    def stop(self) -> None:
        super().stop()
        self.wakeups.timer_due(0)  # ends the gate's sleep

    async def run_once(self) -> int:
        """Claim and fire one batch of due timers, waiting for the firing; returns how many were
        claimed (tests and the virtual clock step with this)."""
        claimed, _ = await self._claim(self.batch)
        await asyncio.gather(*(firing for _, firing in self._firings(claimed)))
        return len(claimed)

    async def _claim(self, limit: int) -> tuple[list[ClaimedTimer], int | None]:
        """Due timers (at most `limit`), leased; and the next due time after now, if any."""
        now = self.clock.now_ms()
        async with self.pool.acquire() as conn:
            claimed, next_due = await timer_store.claim_due(conn, now, limit, now + self.lease_ms)
        for timer in claimed:
            self.metrics.timer_lateness.observe(max(now - timer.due_at, 0) / 1000)
        return claimed, next_due

    def _firings(self, claimed: list[ClaimedTimer]) -> list[tuple[int, Coroutine[Any, Any, None]]]:
        """How to fire claimed timers: (timers covered, coroutine) per bulk chunk or timer."""
        bulk: list[ClaimedTimer] = []
        single: list[ClaimedTimer] = []
        for timer in claimed:
            route = route_of(timer.kind)
            (bulk if route is not None and route.firing is Firing.BULK else single).append(timer)
        chunks = [bulk[i : i + self.bulk_size] for i in range(0, len(bulk), self.bulk_size)]
        return [
            *((len(chunk), self._fire_bulk(chunk)) for chunk in chunks),
            *((1, self._fire(t)) for t in single),
        ]

    def _dispatch(self, claimed: list[ClaimedTimer]) -> None:
        """Fire claimed timers in background tasks, each chunk counted as outstanding until it
        is done, so the claimer tops the pipeline up as soon as any chunk finishes."""
        for size, firing in self._firings(claimed):
            self._outstanding += size
            task = asyncio.create_task(self._tracked(size, firing), name="timer-firing")
            self._firing.add(task)
            task.add_done_callback(self._firing.discard)

    async def _tracked(self, size: int, firing: Coroutine[Any, Any, None]) -> None:
        try:
            await firing
        finally:
            self._outstanding -= size
            self._progress.set()

    async def _firing_progress(self) -> None:
        self._progress.clear()
        await self._progress.wait()

    async def update_gauges(self) -> None:
        """Pending and due counts for /metrics (a count over the table: run it now and then)."""
        async with self.pool.acquire() as conn:
            pending, due = await timer_store.counts(conn, self.clock.now_ms())
        self.metrics.timers_pending.set(pending)
        self.metrics.timers_due.set(due)

    async def _sleep_until(self, next_due: int | None) -> None:
        now = self.clock.now_ms()
        wait_ms = self.max_idle_ms if next_due is None else min(next_due - now, self.max_idle_ms)
        if wait_ms > 0 and not self.stopping:
            await self._gate.sleep(wait_ms / 1000, now)

    async def _fire_bulk(self, timers: list[ClaimedTimer]) -> None:
        events = []
        for timer in timers:
            given = _input_for(timer)
            if given is None:
                await self._drop(timer)
            else:
                key = (timer.key, timer.claimed_fire_at)
                events.append(PendingInput(timer.workflow_id, given, key))
        kept = {event.fired_timer for event in events}
        timers = [t for t in timers if (t.key, t.claimed_fire_at) in kept]
        async with self._limit:
            try:
                leftover = await self.executor.transition_many(events, self.pool)
            except Exception:
                log.exception("bulk timer firing failed; firing one by one")
                leftover = events
        retry = {item.fired_timer for item in leftover}
        fired = Counter(t.kind for t in timers if (t.key, t.claimed_fire_at) not in retry)
        for kind, count in fired.items():
            self.metrics.timers_fired.labels(kind).inc(count)
        await asyncio.gather(
            *(self._fire(t) for t in timers if (t.key, t.claimed_fire_at) in retry)
        )

    async def _fire(self, timer: ClaimedTimer) -> None:
        route = route_of(timer.kind)
        if route is None:
            log.error("dropping timer %s of unknown kind %s", timer.key, timer.kind)
            await self._drop(timer)
            return
        if route.own_limit:
            # Outside the firing limit: a slow call out (an HTTP task, a webhook) waits in its
            # own isolation lane (services/lanes.py), not in front of other timers.
            await self._fire_routed(timer, route)
            return
        async with self._limit:
            await self._fire_routed(timer, route)

    async def _fire_routed(self, timer: ClaimedTimer, route: TimerRoute) -> None:
        try:
            if route.firing is Firing.HANDLER:
                await self.handlers[TimerKind(timer.kind)](timer)
            elif route.firing is Firing.BULK:
                await self._transition(timer)
            else:
                await self._drop(timer)
                self._wake_queue(timer.payload)
            self.metrics.timers_fired.labels(timer.kind).inc()
        except NotFound:
            await self._drop(timer)  # its workflow was removed
        except Exception as exc:
            # The row keeps its leased fire time, so the timer fires again after the lease.
            if is_unavailable(exc):  # the database is away: no fault of this timer's
                log.warning("timer %s not fired: the database is unavailable", timer.key)
                return
            log.exception("timer %s failed to fire", timer.key)
            await self._count_failure(timer, exc)

    async def _count_failure(self, timer: ClaimedTimer, error: Exception) -> None:
        try:
            async with self.pool.acquire() as conn:
                failures = await timer_store.record_failure(conn, timer.key, timer.claimed_fire_at)
        except Exception:
            log.exception("could not count the failure of timer %s", timer.key)
            return
        if failures is not None and failures >= MAX_TIMER_FAILURES:
            await self._quarantine(timer, failures, error)

    async def _quarantine(self, timer: ClaimedTimer, failures: int, error: Exception) -> None:
        """Stop retrying a timer that keeps failing: terminate its workflow with the reason, so
        that it shows in the run; if even that fails, park the timer for an operator."""
        reason = (
            f"Timer {timer.kind} failed to fire {failures} times in a row;"
            f" last error: {type(error).__name__}: {error}"
        )[:REASON_LIMIT]
        self.metrics.timers_quarantined.labels(timer.kind).inc()
        fields = {"workflow_id": timer.workflow_id, "task_id": timer.task_id}
        log.error("quarantining timer %s: %s", timer.key, reason, extra=fields)
        try:
            await self.executor.transition(timer.workflow_id, TerminateWorkflow(reason=reason))
        except Exception:
            log.exception("workflow %s not terminated: its timer waits", timer.workflow_id)
            async with self.pool.acquire() as conn:
                await timer_store.reschedule(
                    conn,
                    timer.key,
                    timer.claimed_fire_at,
                    self.clock.now_ms() + PARKED_TIMER_MS,
                    timer.payload,
                )
            return
        await self._drop(timer)

    async def _transition(self, timer: ClaimedTimer) -> None:
        """Fire one BULK timer on its own (it could not join a bulk chunk)."""
        given = _input_for(timer)
        if given is None:
            await self._drop(timer)
            return
        try:
            await self.executor.transition(
                timer.workflow_id, given, (timer.key, timer.claimed_fire_at)
            )
        except Conflict:  # the workflow refuses it (a terminate after it completed on its own)
            await self._drop(timer)

    async def _drop(self, timer: ClaimedTimer) -> None:
        async with self.pool.acquire() as conn:
            await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)

    def _wake_queue(self, queue_name: str | None) -> None:
        if not queue_name:
            return
        self.wakeups.queues_ready({queue_name})


def _input_for(timer: ClaimedTimer) -> Input | None:
    """The decider input a BULK timer stands for; None when its payload is malformed (it would
    fail the same way every time: the caller drops it)."""
    route = route_of(timer.kind)
    try:
        if route is None or route.to_input is None:
            raise ValueError(f"timer kind {timer.kind} is not fired as an input")
        return route.to_input(timer)
    except _MALFORMED:
        log.error("dropping timer %s with a malformed payload %r", timer.key, timer.payload)
        return None
