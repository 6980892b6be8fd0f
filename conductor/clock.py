"""The only code that reads the time. Tests inject a `ManualClock` and move it by hand."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock time in epoch milliseconds (stored in the database)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class DatabaseClock:
    """PostgreSQL's time, carried forward by this process's monotonic clock between readings.

    Due times, timeouts and back-offs are stored as epoch milliseconds and compared by every
    server on the database, so they are measured against one clock: the database's. A step of
    this host's wall clock (NTP, a hand-set date, a skewed node among several servers) then
    fires nothing early, times nothing out en masse and delays nothing. Until the first
    `anchor()` it runs from the local wall clock; readings never go backwards.
    """

    def __init__(self) -> None:
        # Kept in nanoseconds: whole milliseconds at the anchor would put every later reading up
        # to half a millisecond off, differently after each anchor.
        self._anchor_epoch_ns = time.time_ns()
        self._anchor_ns = time.monotonic_ns()
        self._last = 0
        self.offset_ms = 0  # database time less this host's wall time, at the last anchor

    def now_ms(self) -> int:
        now = (self._anchor_epoch_ns + time.monotonic_ns() - self._anchor_ns) // 1_000_000
        if now > self._last:
            self._last = now
        return self._last

    def anchor(self, database_us: int, monotonic_ns: int) -> None:
        """The database's time was `database_us` (epoch microseconds) at this process's
        `monotonic_ns`."""
        self._anchor_epoch_ns, self._anchor_ns = database_us * 1_000, monotonic_ns
        self.offset_ms = (database_us * 1_000 - time.time_ns()) // 1_000_000


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1000)

    def set(self, now_ms: int) -> None:
        self._now = now_ms


class JumpingClock:
    """Real time plus an offset that only grows: a dev server's virtual clock (--virtual-clock)."""

    def __init__(self) -> None:
        self._offset = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset

    def jump_to(self, when_ms: int) -> None:
        self._offset += max(when_ms - self.now_ms(), 0)
