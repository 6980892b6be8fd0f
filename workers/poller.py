"""The poll loop of one worker: claim as many tasks as there are free slots, run them, report.

Invariants:
- a batch poll asks for at most the number of free slots, and a slot stays taken from the
  poll that claimed a task until that task's result has been delivered (or given up on);
  a next task handed back by update-v2 reuses the slot of the task it follows;
- every execution is an asyncio task in `_in_flight`, removed and checked for unexpected
  exceptions by a done-callback, and awaited or cancelled before `run()` returns.

Shutdown has two phases (River's fetch and work contexts): when the shared stop event is
set the loop stops claiming (the current long poll is allowed to finish, since tasks it
returns are already claimed), then `run()` waits for in-flight tasks. The runner cancels
`run()` if that takes longer than its grace period; in-flight tasks are then cancelled too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from workers.backoff import Backoff
from workers.client import ConductorClient
from workers.execution import execute_task
from workers.model import Task
from workers.reporter import ResultReporter, is_transient
from workers.slots import Slots
from workers.worker import Worker

logger = logging.getLogger(__name__)


class Poller:
    """Polls for and executes the tasks of one worker."""

    def __init__(
        self,
        client: ConductorClient,
        worker: Worker,
        worker_id: str,
        reporter: ResultReporter,
        stopping: asyncio.Event,
        *,
        poll_backoff: Backoff,
        min_poll_interval: float,
    ) -> None:
        self._client = client
        self._worker = worker
        self._worker_id = worker_id
        self._reporter = reporter
        self._stopping = stopping
        self._poll_backoff = poll_backoff
        self._min_poll_interval = min_poll_interval
        self._slots = Slots(worker.concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Poll until the stop event is set, then wait for in-flight tasks."""
        try:
            await self._poll_loop()
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))
        finally:
            await self._cancel_in_flight()

    async def _poll_loop(self) -> None:
        worker = self._worker
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping.is_set():
            await self._wait_for_slot_or_stop()
            if self._stopping.is_set():
                return
            count = self._slots.free
            self._slots.take(count)
            started = loop.time()
            try:
                tasks = await self._client.batch_poll(
                    worker.task_type,
                    self._worker_id,
                    count,
                    worker.poll_timeout_ms,
                    worker.domain,
                )
            except Exception as exc:
                self._slots.release(count)
                failures += 1
                delay = self._poll_backoff.delay(failures)
                self._log_poll_error(exc, failures, delay)
                await self._pause(delay)
                continue
            failures = 0
            self._dispatch(tasks, count)
            if not tasks:
                # Keeps a server that answers at once (no long poll) from being hammered.
                await self._pause(self._min_poll_interval - (loop.time() - started))

    def _dispatch(self, tasks: list[Task], claimed_slots: int) -> None:
        if len(tasks) > claimed_slots:
            # The server broke the count contract; running the extras would exceed the
            # concurrency limit, so they are left to time out on the server.
            logger.error(
                "poll for %s returned %d tasks for count=%d; dropping %s",
                self._worker.task_type,
                len(tasks),
                claimed_slots,
                [task.task_id for task in tasks[claimed_slots:]],
            )
            tasks = tasks[:claimed_slots]
        self._slots.release(claimed_slots - len(tasks))
        for task in tasks:
            execution = asyncio.create_task(
                self._work(task), name=f"{self._worker.task_type}:{task.task_id}"
            )
            self._in_flight.add(execution)
            execution.add_done_callback(self._on_done)

    async def _work(self, task: Task) -> None:
        current: Task | None = task
        try:
            while current is not None:
                result = await execute_task(self._worker, current, self._worker_id)
                # While stopping, ask for no next task: it would be claimed for a worker
                # that is about to go away.
                current = await self._reporter.report(result, want_next=not self._stopping.is_set())
        finally:
            self._slots.release(1)

    def _on_done(self, execution: asyncio.Task[None]) -> None:
        self._in_flight.discard(execution)
        if execution.cancelled():
            return
        exc = execution.exception()
        if exc is not None:
            # _work turns worker failures into results, so this is a bug in this library.
            logger.error("execution %s crashed", execution.get_name(), exc_info=exc)

    async def _cancel_in_flight(self) -> None:
        pending = set(self._in_flight)
        if not pending:
            return
        logger.warning(
            "cancelling %d in-flight %s task(s); the server reschedules them after their "
            "response timeout",
            len(pending),
            self._worker.task_type,
        )
        for execution in pending:
            execution.cancel()
        await asyncio.wait(pending)

    async def _wait_for_slot_or_stop(self) -> None:
        if self._slots.free:
            return
        waiters = {
            asyncio.create_task(self._slots.wait_free()),
            asyncio.create_task(self._stopping.wait()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            # The helper tasks are ours too: let them finish before going on.
            await asyncio.wait(waiters)

    async def _pause(self, seconds: float) -> None:
        """Sleep up to `seconds`, returning early when the stop event is set."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _log_poll_error(self, exc: Exception, failures: int, delay: float) -> None:
        # Connection problems and server errors are expected during outages: one line
        # each, no traceback. Anything else is unexpected and gets the traceback.
        logger.warning(
            "poll for %s failed (%d in a row): %s; retrying in %.2fs",
            self._worker.task_type,
            failures,
            str(exc) or type(exc).__name__,
            delay,
            exc_info=None if is_transient(exc) else exc,
        )
