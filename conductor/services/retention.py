"""Retention: removes finished workflows older than the configured age, in batches.

Each batch is one short statement (SKIP LOCKED, so it never waits for a running transition).
Purging yields to the hot path in two ways:

- pacing: after each batch the service rests many times as long as the batch took. The factor
  is large (`busy_rest`) while work is being served and small (`idle_rest`) otherwise, so a
  backlog drains fast on an idle server and takes only a sliver of a busy database's time.
  Busy means this server did work since the last batch (transitions, claims), or other clients
  wrote rows over the last second or so (other servers' work: the purge statement also reads
  the database's counters of inserted and updated rows; idle pollers write nothing);
- a quiet moment: a batch starts when none of this server's connections is in use (waiting at
  most `quiet_wait_ms`), so it rarely lands on a request already in flight.

With archiving on, a removed run's rows are kept as one document in `workflow_archive`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from conductor.background import BackgroundService
from conductor.clock import Clock
from conductor.metrics import Metrics
from conductor.store import retention as store

DAY_MS = 24 * 3600 * 1000
QUIET_CHECK_MS = 2


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_days: float  # remove workflows that ended longer ago than this
    archive: bool = False
    batch: int = 100
    # Rest this many times as long as the last batch took: purging then takes at most
    # 1 / (1 + rest) of one connection's time (about 0.7 % busy, 20 % idle).
    busy_rest: float = 149.0
    idle_rest: float = 4.0
    pause_ms: int = 20  # the shortest rest between batches
    # The longest rest, so slow batches cannot stall purging; when batches take over
    # max_rest_ms / busy_rest (13 ms) the busy share rises above its bound to keep progress.
    max_rest_ms: int = 2_000
    idle_ms: int = 60_000  # between rounds once nothing is due
    quiet_wait_ms: int = 50  # longest wait for the hot path's connections to be free
    # Rows other clients insert or update per second above which the database counts as busy,
    # judged over windows of at least `window_s` (the statistics system reports about once a
    # second).
    busy_writes_per_s: float = 20.0
    window_s: float = 1.0


def rest_ms(
    policy: RetentionPolicy,
    took_ms: float,
    removed: int,
    hot_path_busy: bool,
    finish_rate_per_s: float = 0.0,
) -> float:
    """How long to rest after a batch that took `took_ms` (smoothed) and removed `removed`,
    while workflows finish here at `finish_rate_per_s`. However busy the server, the rest never
    lets runs finish faster than purging removes them: a backlog must shrink, or the tables
    grow without bound (seen: 48 runs/s removed at most, under a soak finishing 57/s)."""
    if removed < policy.batch:
        return policy.idle_ms  # the backlog is gone: look again later
    factor = policy.busy_rest if hot_path_busy else policy.idle_rest
    rest = min(policy.max_rest_ms, max(policy.pause_ms, factor * took_ms))
    if finish_rate_per_s > 0:
        keep_pace = 1000 * policy.batch / (KEEP_PACE * finish_rate_per_s)
        rest = min(rest, max(policy.pause_ms, keep_pace))
    return rest


def others_busy(policy: RetentionPolicy, writes: int, own_writes: int, elapsed_s: float) -> bool:
    """Whether `writes` rows inserted or updated over `elapsed_s` seconds, of which `own_writes`
    were retention's own (archive copies), show other clients at work. Own rows are counted
    twice: the statistics system reports them late, so a window may hold some from the one
    before."""
    return writes - 2 * own_writes > policy.busy_writes_per_s * elapsed_s


# Purging removes at least this many times as many runs as finish, while a backlog lasts.
KEEP_PACE = 2.0


class RetentionService(BackgroundService):
    name = "retention"

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        metrics: Metrics,
        policy: RetentionPolicy,
        hot_path_work: Callable[[], int] = lambda: 0,
        finished_work: Callable[[], int] = lambda: 0,
    ) -> None:
        """`hot_path_work` counts this server's hot-path work so far (transitions and claims); a
        change between batches means it is busy. The default reports none, so only other
        clients' writes make the database read as busy. `finished_work` counts the workflows
        this server finished so far: purging keeps pace with them."""
        super().__init__()
        self.pool = pool
        self.clock = clock
        self.metrics = metrics
        self.policy = policy
        self._hot_path_work = hot_path_work
        self._seen_work = hot_path_work()
        self._finished_work = finished_work
        self._finished_seen = (time.monotonic(), finished_work())
        self._cost_ms: float | None = None  # what a batch takes, smoothed
        # The database's row-write counter at the start of the current window: (seconds on the
        # monotonic clock, rows written, own rows written so far); and the last window's verdict.
        self._window: tuple[float, int, int] | None = None
        self._own_writes = 0
        self._others_busy = False

    async def run_once(self) -> int:
        """Remove one batch; returns how many workflows went."""
        now = self.clock.now_ms()
        cutoff = now - int(self.policy.max_age_days * DAY_MS)
        async with self.pool.acquire() as conn:
            removed, writes = await store.purge(
                conn, cutoff, self.policy.batch, self.policy.archive, now
            )
        if removed:
            self.metrics.workflows_purged.inc(removed)
        self._note_writes(writes, removed if self.policy.archive else 0)
        return removed

    def _note_writes(self, writes: int, own: int, at: float | None = None) -> None:
        self._own_writes += own
        at = time.monotonic() if at is None else at
        if self._window is None:
            self._window = (at, writes, self._own_writes)
            return
        started, first, own_first = self._window
        if at - started >= self.policy.window_s:
            own_in_window = self._own_writes - own_first
            self._others_busy = others_busy(
                self.policy, writes - first, own_in_window, at - started
            )
            self._window = (at, writes, self._own_writes)

    def hot_path_busy(self) -> bool:
        """Whether this server did hot-path work since the last call, or the last window of
        the database's row writes showed other clients at work."""
        work = self._hot_path_work()
        busy = work != self._seen_work or self._others_busy
        self._seen_work = work
        return busy

    async def wait_for_quiet(self) -> None:
        """Return once no pool connection is in use, or after `quiet_wait_ms`."""
        deadline = time.monotonic() + self.policy.quiet_wait_ms / 1000
        while self.pool.get_size() - self.pool.get_idle_size() > 0:
            if time.monotonic() >= deadline or self.stopping:
                return
            await asyncio.sleep(QUIET_CHECK_MS / 1000)

    async def step(self) -> float:
        """One batch at a quiet moment; returns the rest its cost and the load call for."""
        await self.wait_for_quiet()
        started = time.monotonic()
        removed = await self.run_once()
        took_ms = (time.monotonic() - started) * 1000
        # Smoothed: a batch slowed by a burst of load must not stall purging for long.
        cost = self._cost_ms
        self._cost_ms = took_ms if cost is None else 0.8 * cost + 0.2 * took_ms
        rest = rest_ms(
            self.policy, self._cost_ms, removed, self.hot_path_busy(), self.finish_rate()
        )
        return rest / 1000

    def finish_rate(self) -> float:
        """Workflows finished here per second since the last call."""
        at, finished = time.monotonic(), self._finished_work()
        seen_at, seen = self._finished_seen
        self._finished_seen = (at, finished)
        elapsed = at - seen_at
        return (finished - seen) / elapsed if elapsed > 0 else 0.0
