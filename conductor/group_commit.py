"""Group commit of task results: results that arrive together are applied in one transaction.

Under load most of a result's cost is per transaction, not per result: a BEGIN and a COMMIT
(a WAL flush), two statements to lock and load the run, one per kind of write, and the
driver's work for each round trip. Results that reach the server while earlier ones are being
committed wait here and go together through `Executor.transition_batch` (one transaction, one
commit); each caller is answered only after the commit that covers its result, so a worker
never hears "done" for a result that a crash could lose.

Nothing waits for a batch to fill: a result that arrives when fewer than `max_in_flight`
batches are committing goes at once, so a quiet server answers a lone result as fast as
before. A result the batch could not apply (its run locked by another transaction, a second
result for the same run, an unknown task, a write conflict, any error) goes through
`Executor.transition` on its own, which waits for locks, retries conflicts and raises what the
caller must hear (404, 409, ...), exactly as without grouping.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from conductor.engine.inputs import TaskResultReceived
from conductor.executor import Executor, PendingInput, Transition
from conductor.metrics import Metrics

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 64
DEFAULT_MAX_IN_FLIGHT = 2


@dataclass
class _Waiting:
    item: PendingInput
    answer: asyncio.Future[Transition]


class GroupCommit:
    """Applies task results in shared transactions; `max_batch` 1 turns grouping off."""

    def __init__(
        self,
        executor: Executor,
        metrics: Metrics,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.executor = executor
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_in_flight = max(1, max_in_flight)
        self._waiting: deque[_Waiting] = deque()
        self._in_flight = 0
        self._batches: set[asyncio.Task[None]] = set()

    async def apply(
        self, workflow_id: str, event: TaskResultReceived, *, claim_next_for: str | None = None
    ) -> Transition:
        """Apply one result; returns once a commit covers it (or raises what `transition`
        raises for it)."""
        if self.max_batch <= 1:
            return await self.executor.transition(workflow_id, event, claim_next_for=claim_next_for)
        # Measured once here, as `transition` would: the batch path does not limit outputs.
        event = self.executor.limit_output(workflow_id, event)
        answer: asyncio.Future[Transition] = asyncio.get_running_loop().create_future()
        self._waiting.append(
            _Waiting(PendingInput(workflow_id, event, None, claim_next_for), answer)
        )
        self._dispatch()
        # A caller that goes away (a client disconnect) does not cancel the others' commit.
        return await asyncio.shield(answer)

    async def drain(self) -> None:
        """Until every accepted result is answered (shutdown)."""
        while self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)

    def _dispatch(self) -> None:
        while self._waiting and self._in_flight < self.max_in_flight:
            count = min(self.max_batch, len(self._waiting))
            batch = [self._waiting.popleft() for _ in range(count)]
            self._in_flight += 1
            task = asyncio.create_task(self._commit(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            self.metrics.group_commit_size.observe(len(batch))
            if len(batch) == 1:
                await self._alone(batch[0])
                return
            try:
                results = await self.executor.transition_batch([w.item for w in batch])
            except Exception:
                log.exception(
                    "group commit of %d results failed; applying them one by one", len(batch)
                )
                results = [None] * len(batch)
            alone = []
            for waiting, result in zip(batch, results, strict=True):
                if result is None:
                    alone.append(self._alone(waiting))
                elif not waiting.answer.done():
                    waiting.answer.set_result(result)
            if alone:
                self.metrics.group_commit_fallbacks.inc(len(alone))
                await asyncio.gather(*alone)
        finally:
            self._in_flight -= 1
            self._dispatch()

    async def _alone(self, waiting: _Waiting) -> None:
        item = waiting.item
        try:
            result = await self.executor.transition(
                item.workflow_id, item.event, claim_next_for=item.claim_next_for
            )
        except BaseException as exc:  # the caller hears it, as without grouping
            if not waiting.answer.done():
                waiting.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if not waiting.answer.done():
            waiting.answer.set_result(result)
