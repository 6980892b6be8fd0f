"""In-process wake-ups: long-pollers waiting on a queue, callers waiting on a workflow.

A waiter takes the current Event for its key *before* it checks the database, so a wake-up
between the check and the wait is never missed; waking replaces the Event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable


class Signals:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def waiter(self, key: str) -> asyncio.Event:
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        return event

    def wake(self, key: str) -> None:
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    def wake_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.wake(key)

    def wake_all(self) -> None:
        for key in list(self._events):
            self.wake(key)


async def wait_for(event: asyncio.Event, timeout: float) -> bool:
    """Wait for `event` up to `timeout` seconds; True if it was set."""
    if timeout <= 0:
        return event.is_set()
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


class Wakeups:
    """Queue and workflow signals of this process, plus the hook that nudges the timer service."""

    def __init__(self) -> None:
        self.queues = Signals()
        self.workflows = Signals()
        # Set when a commit published event messages (the event processor waits on it).
        self.event_messages = asyncio.Event()
        self._timer_listeners: list[Callable[[int], None]] = []

    def timers_written(self, earliest_fire_at: int) -> None:
        """A commit wrote timers, the earliest due at `earliest_fire_at` (epoch ms)."""
        for listener in self._timer_listeners:
            listener(earliest_fire_at)

    def add_timer_listener(self, listener: Callable[[int], None]) -> None:
        self._timer_listeners.append(listener)
