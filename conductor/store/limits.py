"""Per-task-definition limits on handing out tasks: concurrentExecLimit (IN_PROGRESS at once)
and rateLimitPerFrequency per rateLimitFrequencyInSeconds (starts in a sliding window).

Enforced at claim time in PostgreSQL, so they hold across server processes (tasks.py). This
module only knows each definition's limits, cached briefly: a changed TaskDef takes effect on
this server at once and on others within `ttl_s`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from conductor.store import definitions as def_store
from conductor.store.pool import Conn


@dataclass(frozen=True)
class TaskLimits:
    task_def: str
    concurrent: int = 0
    rate_per_window: int = 0
    window_seconds: int = 1

    @property
    def active(self) -> bool:
        return self.concurrent > 0 or self.rate_per_window > 0

    @classmethod
    def from_def(cls, name: str, task_def: dict[str, Any] | None) -> TaskLimits:
        task_def = task_def or {}
        return cls(
            name,
            concurrent=_positive(task_def.get("concurrentExecLimit")),
            rate_per_window=_positive(task_def.get("rateLimitPerFrequency")),
            window_seconds=max(_positive(task_def.get("rateLimitFrequencyInSeconds")), 1),
        )


def has_limits(task_def: dict[str, Any] | None) -> bool:
    """Cheap enough for every transition's wake-ups."""
    if not task_def:
        return False
    limited = ("concurrentExecLimit", "rateLimitPerFrequency")
    return any(_positive(task_def.get(key)) for key in limited)


class LimitsCache:
    def __init__(self, ttl_s: float = 2.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, TaskLimits]] = {}

    async def get(self, conn: Conn, task_def: str) -> TaskLimits:
        cached = self._cache.get(task_def)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        limits = TaskLimits.from_def(task_def, await def_store.get_task_def(conn, task_def))
        self._cache[task_def] = (time.monotonic(), limits)
        return limits

    def forget(self, task_def: str | None = None) -> None:
        """A TaskDef changed here: read it again on the next claim."""
        if task_def is None:
            self._cache.clear()
        else:
            self._cache.pop(task_def, None)


def _positive(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
