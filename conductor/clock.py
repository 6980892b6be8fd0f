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
