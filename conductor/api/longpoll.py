"""Long-polled task queues: claim, or wait for a wake-up without holding a database connection.

A poll takes the queue's wake-up Event before trying to claim, so a task committed between the
claim and the wait wakes it. Local commits wake pollers at once; other servers' commits arrive
through LISTEN/NOTIFY. While a poll waits, a local transaction that makes tasks of its queue
ready may claim them for it (hand_off.py). Poll data (last poll per queue) is kept in memory and
flushed in batches, so idle workers polling ten times a second do not write to the database ten
times a second. Each worker seen polling a queue is flushed too, for the queue monitor's worker
count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from conductor import faults
from conductor.clock import Clock
from conductor.engine.definitions import queue_name
from conductor.hand_off import HandOffs
from conductor.metrics import Metrics
from conductor.store import queue_monitor
from conductor.store import tasks as task_store
from conductor.store.limits import LimitsCache
from conductor.store.values import StoredTask
from conductor.wakeups import Wakeups, wait_for

MAX_POLL_TIMEOUT_MS = 5000
# Workers not seen polling for this long are forgotten (they still show in poll_data if last).
FORGET_WORKERS_MS = 24 * 3600 * 1000


class Poller:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        wakeups: Wakeups,
        metrics: Metrics,
        limits: LimitsCache,
        hand_offs: HandOffs,
    ) -> None:
        self.pool = pool
        self.hand_offs = hand_offs
        self.limits = limits
        self.clock = clock
        self.wakeups = wakeups
        self.metrics = metrics
        self._poll_data: dict[tuple[str, str], tuple[str | None, int]] = {}
        self._workers: dict[tuple[str, str, str], int] = {}  # (queue, domain, worker) -> time
        self._stopping = False
        self.claimed = 0  # tasks handed to workers so far: background work reads it as load
        self._gauged: set[str] = set()  # queues that have a gauge series
        # Told the longest queue wait of each claim (start admission listens).
        self._claim_wait_listeners: list[Callable[[float], None]] = []

    def add_claim_wait_listener(self, listener: Callable[[float], None]) -> None:
        self._claim_wait_listeners.append(listener)

    async def poll(
        self,
        task_type: str,
        worker_id: str | None,
        domain: str | None,
        count: int,
        timeout_ms: int,
        gone: Callable[[], bool] | None = None,
    ) -> list[StoredTask]:
        """Claim up to `count` tasks, waiting up to `timeout_ms` for some. `gone` says whether
        the client has hung up: then nothing more is claimed for it, since a task claimed for
        a closed connection would wait out its response timeout before anyone else got it."""
        queue = queue_name(task_type, domain)
        self._seen(queue, domain, worker_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            if gone is not None and gone():
                return []
            woken = self.wakeups.queues.waiter(queue)
            async with self.pool.acquire() as conn:
                limits = await self.limits.get(conn, task_type)
                now = self.clock.now_ms()
                claimed = await task_store.claim(
                    conn, queue, now, count, worker_id, limits, self._limited_counter(task_type)
                )
            if claimed:
                self._note(task_type, claimed)
                faults.reached("claim.before_response")
                return claimed
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                return []
            # While it waits, a transaction that makes tasks of this queue ready may claim
            # them for it (hand_off.py); its commit wakes the queue.
            offer = self.hand_offs.offer(queue, task_type, worker_id, count, gone)
            self.metrics.long_polls_waiting.inc()
            try:
                await wait_for(woken, remaining)
            finally:
                self.metrics.long_polls_waiting.dec()
                handed = await self.hand_offs.settle(offer)
            if handed:
                self.metrics.tasks_handed_off.inc(len(handed))
                self._note(task_type, handed)
                faults.reached("claim.before_response")
                return handed

    def note_claimed(
        self,
        task_type: str,
        queue: str | None,
        domain: str | None,
        claimed: list[StoredTask],
    ) -> None:
        """Account for tasks claimed elsewhere (update-v2 claims inside its transition)."""
        if queue is not None:
            self._seen(queue, domain, claimed[0].task.worker_id if claimed else None)
        self._note(task_type, claimed)

    def _limited_counter(self, task_type: str) -> Callable[[str], None]:
        def count(limit: str) -> None:
            self.metrics.task_polls_limited.labels(task_type, limit).inc()

        return count

    def _seen(self, queue: str, domain: str | None, worker_id: str | None) -> None:
        now = self.clock.now_ms()
        self._poll_data[(queue, domain or "")] = (worker_id, now)
        if worker_id:
            self._workers[(queue, domain or "", worker_id)] = now

    def _note(self, task_type: str, claimed: list[StoredTask]) -> None:
        self.claimed += len(claimed)
        self.metrics.tasks_polled.labels(task_type).inc(len(claimed))
        now = self.clock.now_ms()
        waits = [now - c.ready_at for c in claimed if c.ready_at is not None]
        if waits:
            histogram = self.metrics.task_queue_wait.labels(task_type)
            for waited in waits:
                histogram.observe(max(waited, 0) / 1000)
            for listener in self._claim_wait_listeners:
                listener(max(waits))
        # The claim armed response-timeout timers: let the timer service know the earliest.
        leases = [
            c.task.response_timeout_seconds for c in claimed if c.task.response_timeout_seconds
        ]
        if leases:
            self.wakeups.timer_due(self.clock.now_ms() + min(leases) * 1000)

    def stop(self) -> None:
        """Make waiting polls return empty now (two-phase shutdown)."""
        self._stopping = True
        self.wakeups.queues.wake_all()

    async def update_queue_gauges(self) -> None:
        """Ready tasks and the oldest one's wait per queue, for /metrics (one pass over the
        queue table: run it now and then). A queue that emptied reads 0 until it is gone."""
        async with self.pool.acquire() as conn:
            now = self.clock.now_ms()
            found = await queue_monitor.depths(conn, now)
        seen = set()
        for depth in found:
            seen.add(depth.queue_name)
            waited = (now - depth.oldest_ready) / 1000 if depth.oldest_ready is not None else 0.0
            self.metrics.queue_ready.labels(depth.queue_name).set(depth.ready)
            self.metrics.queue_oldest_ready_seconds.labels(depth.queue_name).set(max(waited, 0.0))
        for queue in self._gauged - seen:
            self.metrics.queue_ready.labels(queue).set(0)
            self.metrics.queue_oldest_ready_seconds.labels(queue).set(0)
        self._gauged |= seen

    async def flush_poll_data(self) -> None:
        if not self._poll_data:
            return
        entries, self._poll_data = self._poll_data, {}
        workers, self._workers = self._workers, {}
        rows = [(q, d, worker, at) for (q, d), (worker, at) in entries.items()]
        sightings = [(q, d, worker, at) for (q, d, worker), at in workers.items()]
        async with self.pool.acquire() as conn:
            await task_store.save_poll_data(conn, rows)
            await queue_monitor.save_workers(
                conn, sightings, self.clock.now_ms() - FORGET_WORKERS_MS
            )
