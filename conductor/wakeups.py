"""Wake-ups: the one place that hears what a commit made ready and wakes whoever waits for it.

Waiters in this process: long-polls by queue, sync callers by workflow, the event processor, and
the timer service (through its gate, a timer listener). Relays subscribe to pass what happened
here on to other server processes (services/broadcast.py, over LISTEN/NOTIFY); what a relay hears
from elsewhere it wakes here through the signals directly, so nothing echoes back.

A waiter takes the current Event for its key *before* it checks the database, so a wake-up
between the check and the wait is never missed; waking replaces the Event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable
from typing import Protocol


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


class Relay(Protocol):
    """Carries this process's wake-ups to other server processes."""

    def queues_ready(self, names: Collection[str]) -> None: ...

    def timers_written(self, earliest_fire_at: int) -> None: ...

    def workflow_finished(self, workflow_id: str) -> None: ...

    def event_messages_written(self) -> None: ...


class Wakeups:
    def __init__(self) -> None:
        self.queues = Signals()
        self.workflows = Signals()
        # Set when event messages were written (the event processor waits on it).
        self.event_messages = asyncio.Event()
        self._timer_listeners: list[Callable[[int], None]] = []
        self._relays: list[Relay] = []

    def subscribe(self, relay: Relay) -> None:
        self._relays.append(relay)

    def add_timer_listener(self, listener: Callable[[int], None]) -> None:
        self._timer_listeners.append(listener)

    # -- committed here: woken here and relayed to other servers --------------------------------

    def queues_ready(self, names: Collection[str]) -> None:
        """Tasks became pollable in these queues."""
        self.queues.wake_many(names)
        for relay in self._relays:
            relay.queues_ready(names)

    def timers_written(self, earliest_fire_at: int) -> None:
        """A commit wrote timers, the earliest due at `earliest_fire_at` (epoch ms)."""
        self.timer_due(earliest_fire_at)
        for relay in self._relays:
            relay.timers_written(earliest_fire_at)

    def workflow_changed(self, workflow_id: str) -> None:
        """A transition of this workflow committed. Not relayed: callers waiting elsewhere
        re-read on their own every so often, and most transitions are not the last."""
        self.workflows.wake(workflow_id)

    def workflow_finished(self, workflow_id: str) -> None:
        self.workflows.wake(workflow_id)
        for relay in self._relays:
            relay.workflow_finished(workflow_id)

    def event_messages_written(self) -> None:
        self.event_messages.set()
        for relay in self._relays:
            relay.event_messages_written()

    # -- for this process only -------------------------------------------------------------------

    def timer_due(self, fire_at: int) -> None:
        """Tell this server's timer service of a timer due at `fire_at` (0: look now). On its
        own, for timers only this server needs to look at: a lease it armed at a claim, a timer
        it holds and put back, or a clock that jumped; other servers find them in their rounds.
        """
        for listener in self._timer_listeners:
            listener(fire_at)
