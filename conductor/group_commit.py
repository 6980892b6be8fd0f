"""Group commit: task results, and workflow starts, that arrive together share one transaction.

Under load most of a result's or a start's cost is per transaction, not per item: a BEGIN and
a COMMIT (a WAL flush), the statements to load, lock and write, and the driver's and the event
loop's work for each round trip. Items that reach the server while earlier ones are being
committed wait here and go together through one batch call (`Executor.transition_batch`,
`Executor.start_batch`): one transaction, one commit; each caller is answered only after the
commit that covers its item, so nobody hears "done" for something a crash could lose.

Nothing waits for a batch to fill: an item that arrives when fewer than `max_in_flight`
batches are committing goes at once, so a quiet server answers a lone request as fast as
before. An item the batch could not take (a result whose run is locked by another
transaction, a second result for the same run, an unknown task or definition, a write
conflict, any error) goes on its own through the single-item path (`Executor.transition`,
`Executor.start`), which waits for locks, retries conflicts and raises what the caller must
hear (404, 409, ...), exactly as without grouping.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import Counter, Histogram

from conductor import logs
from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import WorkflowState
from conductor.executor import Executor, PendingInput, Transition
from conductor.metrics import Metrics
from conductor.wire.start_request import StartRequest

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 64
DEFAULT_MAX_IN_FLIGHT = 2

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    answer: asyncio.Future[Result]
    # The request that submitted it, for the log records its commit makes.
    request_id: str | None = None


class Batcher(Generic[Item, Result]):
    """Runs items in shared batches. `run_batch` returns one entry per item, None for an item
    it did not apply; each of those goes through `run_alone`. `max_batch` 1: every item alone."""

    # True: a batch is formed once the callbacks ready now have run (one loop turn later), so
    # items released together (by the start gate, when a commit frees its slots) make one
    # batch rather than a batch of one and then the rest.
    gather_released = False

    def __init__(
        self,
        what: str,
        run_batch: Callable[[Sequence[Item]], Awaitable[list[Result | None]]],
        run_alone: Callable[[Item], Awaitable[Result]],
        sizes: Histogram,
        fallbacks: Counter,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.what = what
        self._run_batch = run_batch
        self._run_alone = run_alone
        self._sizes = sizes
        self._fallbacks = fallbacks
        self.max_batch = max_batch
        self.max_in_flight = max(1, max_in_flight)
        self._waiting: deque[_Waiting[Item, Result]] = deque()
        self._in_flight = 0
        self._dispatch_soon = False
        self._batches: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Run one item; returns once a commit covers it (or raises what `run_alone` raises)."""
        if self.max_batch <= 1:
            return await self._run_alone(item)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Result] = loop.create_future()
        self._waiting.append(_Waiting(item, answer, logs.request_id.get()))
        if not self.gather_released:
            self._dispatch()
        elif not self._dispatch_soon:
            self._dispatch_soon = True
            loop.call_soon(self._dispatch_now)
        # A caller that goes away (a client disconnect) does not cancel the others' commit.
        return await asyncio.shield(answer)

    async def drain(self) -> None:
        """Until every accepted item is answered (shutdown)."""
        while True:
            self._dispatch()  # items still waiting for their loop turn go now
            if not self._batches:
                return
            await asyncio.gather(*self._batches, return_exceptions=True)

    def _dispatch_now(self) -> None:
        self._dispatch_soon = False
        self._dispatch()

    def _dispatch(self) -> None:
        while self._waiting and self._in_flight < self.max_in_flight:
            count = min(self.max_batch, len(self._waiting))
            batch = [self._waiting.popleft() for _ in range(count)]
            self._in_flight += 1
            task = asyncio.create_task(self._commit(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _commit(self, batch: list[_Waiting[Item, Result]]) -> None:
        # The task was made in whatever context dispatched it (another request, another
        # batch): its log records name the one request it serves, or none for a shared batch.
        logs.request_id.set(batch[0].request_id if len(batch) == 1 else None)
        try:
            self._sizes.observe(len(batch))
            if len(batch) == 1:
                await self._alone(batch[0])
                return
            try:
                results = await self._run_batch([w.item for w in batch])
            except Exception:
                log.exception(
                    "group commit of %d %s failed; running them one by one", len(batch), self.what
                )
                results = [None] * len(batch)
            alone = []
            for waiting, result in zip(batch, results, strict=True):
                if result is None:
                    alone.append(self._alone(waiting))
                elif not waiting.answer.done():
                    waiting.answer.set_result(result)
            if alone:
                self._fallbacks.inc(len(alone))
                await asyncio.gather(*alone)
        finally:
            self._in_flight -= 1
            self._dispatch()

    async def _alone(self, waiting: _Waiting[Item, Result]) -> None:
        try:
            result = await self._run_alone(waiting.item)
        except BaseException as exc:  # the caller hears it, as without grouping
            if not waiting.answer.done():
                waiting.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if not waiting.answer.done():
            waiting.answer.set_result(result)


class GroupCommit(Batcher[PendingInput, Transition]):
    """Applies task results in shared transactions; `max_batch` 1 turns grouping off."""

    def __init__(
        self,
        executor: Executor,
        metrics: Metrics,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        super().__init__(
            "task results",
            executor.transition_batch,
            self._transition_alone,
            metrics.group_commit_size,
            metrics.group_commit_fallbacks,
            max_batch=max_batch,
            max_in_flight=max_in_flight,
        )
        self.executor = executor

    async def apply(
        self, workflow_id: str, event: TaskResultReceived, *, claim_next_for: str | None = None
    ) -> Transition:
        """Apply one result; returns once a commit covers it (or raises what `transition`
        raises for it)."""
        if self.max_batch <= 1:
            return await self.executor.transition(workflow_id, event, claim_next_for=claim_next_for)
        # Measured once here, as `transition` would: the batch path does not limit outputs.
        event = self.executor.limit_output(workflow_id, event)
        return await self.submit(PendingInput(workflow_id, event, None, claim_next_for))

    async def _transition_alone(self, item: PendingInput) -> Transition:
        return await self.executor.transition(
            item.workflow_id, item.event, claim_next_for=item.claim_next_for
        )


class StartGroup(Batcher[StartRequest, WorkflowState]):
    """Starts workflows in shared transactions. Starts that name their own id or carry an
    idempotency key go alone: their outcome depends on rows another start may hold."""

    # The start gate lets starts in as slots free, many in the same loop turn: without this,
    # M2 (starts only) made 2,051 batches of one and 739 of ~30 for 24,221 starts.
    gather_released = True

    def __init__(
        self,
        executor: Executor,
        metrics: Metrics,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        super().__init__(
            "starts",
            executor.start_batch,
            executor.start,
            metrics.start_group_size,
            metrics.start_group_fallbacks,
            max_batch=max_batch,
            max_in_flight=max_in_flight,
        )
        self.executor = executor

    async def start(self, request: StartRequest) -> WorkflowState:
        """Start one run; returns once a commit covers it (or raises what `start` raises)."""
        if not self.executor.batchable_start(request):
            return await self.executor.start(request)
        return await self.submit(request)
