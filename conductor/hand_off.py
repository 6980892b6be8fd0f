"""Hand-offs: a transaction that makes tasks ready claims them for a long-poll waiting here.

Without them a task reaches a waiting worker through two transactions: the one that schedules it
commits and wakes the poll, which then claims it in a second one. With them the scheduling
transaction, as its last statement, claims the task for the first poll waiting on its queue in
this process, and the poll is answered once that commit covers both. One commit fewer per task
handed over, and no round trip between the commit and the worker.

A poll is offered here while it waits. A transaction takes it (then no other can), and after its
commit delivers what it claimed; if it rolls back, or claimed nothing, the poll is released and
looks again. A poll whose wait ends while a transaction holds it waits for that transaction's
outcome instead of answering empty, so nothing claimed for it is dropped on the floor.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from conductor.store.values import StoredTask


@dataclass(eq=False)
class WaitingPoll:
    queue: str
    task_type: str
    worker_id: str | None
    count: int
    outcome: asyncio.Future[list[StoredTask]]
    taken: bool = False
    # True once the client has hung up: nothing is claimed for a poll nobody will read.
    gone: Callable[[], bool] = lambda: False


@dataclass
class HandOffRound:
    """The polls one transaction took, and what it claimed for each."""

    registry: HandOffs
    claimed: dict[WaitingPoll, list[StoredTask]] = field(default_factory=dict)

    def take(self, queue: str) -> WaitingPoll | None:
        poll = self.registry.take(queue)
        if poll is not None:
            self.claimed[poll] = []
        return poll

    def deliver(self) -> None:
        for poll, tasks in self.claimed.items():
            self.registry.answer(poll, tasks)

    def release(self) -> None:
        for poll in self.claimed:
            self.registry.answer(poll, [])


class HandOffs:
    """The long-polls of this process waiting for tasks, by queue, oldest first."""

    def __init__(self, wake_queue: Callable[[str], None]) -> None:
        self._wake_queue = wake_queue  # a waiting poll sleeps on its queue's wake-up
        self._waiting: dict[str, deque[WaitingPoll]] = {}

    def offer(
        self,
        queue: str,
        task_type: str,
        worker_id: str | None,
        count: int,
        gone: Callable[[], bool] | None = None,
    ) -> WaitingPoll:
        outcome: asyncio.Future[list[StoredTask]] = asyncio.get_running_loop().create_future()
        poll = WaitingPoll(queue, task_type, worker_id, count, outcome)
        if gone is not None:
            poll.gone = gone
        self._waiting.setdefault(queue, deque()).append(poll)
        return poll

    def first_waiting(self, queue: str) -> WaitingPoll | None:
        waiting = self._live(queue)
        return waiting[0] if waiting else None

    def take(self, queue: str) -> WaitingPoll | None:
        waiting = self._live(queue)
        if not waiting:
            return None
        poll = waiting.popleft()
        if not waiting:
            del self._waiting[queue]
        poll.taken = True
        return poll

    def _live(self, queue: str) -> deque[WaitingPoll] | None:
        """The queue's waiting polls, after dropping those whose clients hung up (each is
        settled empty: its handler finds nothing when its wait ends)."""
        waiting = self._waiting.get(queue)
        while waiting and waiting[0].gone():
            abandoned = waiting.popleft()
            abandoned.taken = True
            if not abandoned.outcome.done():
                abandoned.outcome.set_result([])
        if waiting is not None and not waiting:
            del self._waiting[queue]
            return None
        return waiting

    def answer(self, poll: WaitingPoll, tasks: list[StoredTask]) -> None:
        if not poll.outcome.done():
            poll.outcome.set_result(tasks)
        self._wake_queue(poll.queue)

    async def settle(self, poll: WaitingPoll) -> list[StoredTask]:
        """A poll's wait ended: withdraw its offer, or, when a transaction took it, wait for
        what that transaction claimed for it (empty if it claimed nothing or rolled back)."""
        if not poll.taken:
            waiting = self._waiting.get(poll.queue)
            if waiting is not None:
                waiting.remove(poll)
                if not waiting:
                    del self._waiting[poll.queue]
            return []
        return await asyncio.shield(poll.outcome)

    @asynccontextmanager
    async def round(self) -> AsyncIterator[HandOffRound]:
        """Enter before a transaction and leave after it: what the transaction took is
        delivered if it committed, released if the block raised."""
        handing = HandOffRound(self)
        try:
            yield handing
        except BaseException:
            handing.release()
            raise
        handing.deliver()
