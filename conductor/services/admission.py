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

A fixed number of slots is not enough on its own: once results got cheaper (group commit), four
slots started runs faster than the server finished their tasks, and tasks waited 9 s in their
queues. So the gate also listens to the queues: every claim reports how long its tasks waited
to be claimed after they became ready. While the latest claims waited longer than
`wait_target_ms` (smoothed), running work is behind, and a start that got its slot is held (at
most `MAX_HOLD_S`) until work has caught up and a claim on time lets it go (one start per such
claim), or the report goes stale (no claims at all, so nothing is behind that starts could be
slowing down).

Late claims are a late signal, though: a start that waits five seconds commits the server to
work five seconds from now, and by the time claims run late, the starts that caused it are in.
So the gate also looks ahead: while many timers fall due soon (WAITs ending, retries and
timeouts coming up: work already promised), it narrows to `busy_concurrency`; with few, starts
have the server to themselves and may take `concurrency` slots. The count is measured in the
database every half second (`DueSoonMeter`, all servers' timers) and, in between, raised by
every timer this server writes, so the gate narrows with the commit that promises the work. A
server that has not measured yet (background services off, or the database unreachable for a
while) counts as busy.

And while no running work is in sight at all (no timers due soon and no task claimed for
`IDLE_AFTER_S`: nobody is polling, or nothing is left to claim), starts have the server to
themselves and may take `idle_concurrency` slots; the first claim brings the gate back to
`concurrency`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg

from conductor.clock import Clock
from conductor.config import Settings
from conductor.engine.decision import DEADLINE_KINDS, TimerIntent
from conductor.errors import TooManyRequests
from conductor.metrics import Metrics
from conductor.store import timers as timer_store

RETRY_AFTER_S = 1
DEFAULT_WAIT_TARGET_MS = Settings.start_wait_target_ms
# A start is held this long at most while running work is behind, so starts never stop.
MAX_HOLD_S = 1.0
# A report of late claims stops counting after this long without another claim.
BEHIND_REPORT_TTL_S = 0.5
# Weight of the newest claim in the smoothed claim wait.
_SMOOTHING = 0.2
# Timers due within DUE_SOON_S that make the server busy. Low on purpose: in bench.mixed_load's
# M3 (starts of WAIT 5 s, then a step) 1,000 let the wide gate admit two seconds of starts
# whose WAITs then ended together, and steps reached workers 1.1 s late at p99; 250, 0.5 s.
# Measured every DUE_SOON_CHECK_S; a measure older than DUE_SOON_TTL_S no longer counts.
DUE_SOON_S = 10
DUE_SOON_LIMIT = 250
DUE_SOON_CHECK_S = 0.5
DUE_SOON_TTL_S = 5.0
# With no task claimed for this long (and few timers due), running work is idle.
IDLE_AFTER_S = 1.0


class StartAdmission:
    def __init__(
        self,
        metrics: Metrics,
        concurrency: int,
        max_backlog: int = 0,
        wait_target_ms: int = DEFAULT_WAIT_TARGET_MS,
        busy_concurrency: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        idle_concurrency: int | None = None,
    ) -> None:
        """`concurrency` 0 admits every start at once (no gate); `busy_concurrency` (at most
        `concurrency`, the same if None) applies while many timers fall due soon;
        `idle_concurrency` (at least `concurrency`, the same if None) while no running work is
        in sight; `max_backlog` 0: no refusals; `wait_target_ms` 0: starts are not held when
        claims are late."""
        self.metrics = metrics
        self.concurrency = concurrency
        self.busy_concurrency = min(busy_concurrency or concurrency, concurrency)
        self.idle_concurrency = max(idle_concurrency or concurrency, concurrency)
        self.max_backlog = max_backlog
        self.wait_target_ms = wait_target_ms
        self.waiting = 0
        self.running = 0
        self._turns: collections.deque[asyncio.Future[None]] = collections.deque()
        self._monotonic = monotonic  # every age and deadline here (tests move it)
        self._due_soon: int | None = None
        # Timers due soon this server wrote since the last measure: the gate narrows as soon
        # as starts promise work, not half a second later.
        self._written_since = 0
        self._due_soon_at = 0.0  # monotonic time of the latest measure
        # Claim waits, smoothed: one late claim among many on time does not hold starts.
        self._claim_wait_ms = 0.0
        self._reported_at: float | None = None  # monotonic time of the latest claim report
        self._held: collections.deque[asyncio.Future[None]] = collections.deque()

    def note_claim_wait(self, waited_ms: float) -> None:
        """How long the tasks of one claim waited in their queue (the longest of them). Each
        claim on time while work is no longer behind lets one held start go, so starts come back
        at the pace running work is claimed rather than all at once."""
        self._reported_at = self._monotonic()
        if self.wait_target_ms <= 0:
            return
        self._claim_wait_ms = (1 - _SMOOTHING) * self._claim_wait_ms + _SMOOTHING * waited_ms
        if waited_ms <= self.wait_target_ms and not self._behind_for():
            while self._held:
                held = self._held.popleft()
                if not held.done():
                    held.set_result(None)
                    break

    def _behind_for(self) -> float:
        """Seconds the latest report of late claims still counts for (0: not behind)."""
        if self._claim_wait_ms <= self.wait_target_ms or self._reported_at is None:
            return 0.0
        return max(0.0, self._reported_at + BEHIND_REPORT_TTL_S - self._monotonic())

    def note_timers_due_soon(self, count: int) -> None:
        """How many timers fall due within the next DUE_SOON_S seconds (measured now)."""
        self._due_soon = count
        self._due_soon_at = self._monotonic()
        self._written_since = 0
        self._give_turns()

    def note_timers_written(self, timers: Sequence[TimerIntent], now_ms: int) -> None:
        """Timers one commit wrote (any transition's): those that will fire soon count at once."""
        horizon = now_ms + DUE_SOON_S * 1000
        self._written_since += sum(
            1 for t in timers if t.fire_at <= horizon and t.kind not in DEADLINE_KINDS
        )

    def limit(self) -> int:
        """How many starts may run at once now."""
        calm = (
            self._due_soon is not None
            and self._due_soon + self._written_since < DUE_SOON_LIMIT
            and self._monotonic() - self._due_soon_at < DUE_SOON_TTL_S
        )
        if not calm:
            return self.busy_concurrency
        claimed_lately = (
            self._reported_at is not None and self._monotonic() - self._reported_at < IDLE_AFTER_S
        )
        return self.concurrency if claimed_lately else self.idle_concurrency

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one start slot for the block, waiting for it first if all are taken."""
        if self.concurrency <= 0:
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
            await self._take_turn()
        finally:
            self.waiting -= 1
            self.metrics.start_backlog.set(self.waiting)
        try:
            await self._hold_while_behind()
            self.metrics.start_admission_seconds.observe(time.perf_counter() - began)
            yield
        finally:
            self.running -= 1
            self._give_turns()

    async def _take_turn(self) -> None:
        """Count this start as running, waiting in arrival order while the limit is reached."""
        if not self._turns and self.running < self.limit():
            self.running += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        try:
            # Given by a start that ends, or by a measure that widens the limit.
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given as the caller went away: hand on
                self.running -= 1
                self._give_turns()
            elif turn in self._turns:
                self._turns.remove(turn)
            raise

    def _give_turns(self) -> None:
        while self._turns and self.running < self.limit():
            turn = self._turns.popleft()
            if not turn.done():
                self.running += 1
                turn.set_result(None)

    async def _hold_while_behind(self) -> None:
        if self._behind_for() <= 0:
            return
        self.metrics.starts_held.inc()
        deadline = self._monotonic() + MAX_HOLD_S
        released: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._held.append(released)
        try:
            while (behind := self._behind_for()) > 0:
                left = deadline - self._monotonic()
                if left <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(behind, left)):
                        # Shielded: a timeout re-checks, and the same future stays in line.
                        await asyncio.shield(released)
                        return
        finally:
            # Holds happen inside a slot, so the line is at most `concurrency` long.
            if released in self._held:
                self._held.remove(released)


class DueSoonMeter:
    """Measures, for the gate, how many timers that will fire fall due within DUE_SOON_S."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, admission: StartAdmission) -> None:
        self.pool = pool
        self.clock = clock
        self.admission = admission
        self._skip = [kind.value for kind in DEADLINE_KINDS]

    async def measure(self) -> int:
        until = self.clock.now_ms() + DUE_SOON_S * 1000
        async with self.pool.acquire() as conn:
            count = await timer_store.count_due_before(conn, until, DUE_SOON_LIMIT, self._skip)
        self.admission.note_timers_due_soon(count)
        return count
