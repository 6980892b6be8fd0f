"""`TaskRunner`: runs one poll loop per worker and stops them all in two phases.

`run()` lasts until `stop()` (or cancellation). `stop(grace_seconds)` first stops claiming
new tasks and lets in-flight ones finish; when the grace period is over it cancels the
rest. Cancelled tasks are not reported: the server hands them out again once their
response timeout expires.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable

from workers.backoff import Backoff
from workers.client import ConductorClient
from workers.poller import Poller
from workers.reporter import ResultReporter
from workers.worker import Worker, check_worker

logger = logging.getLogger(__name__)

DEFAULT_POLL_BACKOFF = Backoff(base=0.2, cap=3.0)
DEFAULT_UPDATE_BACKOFF = Backoff(base=0.2, cap=5.0, max_attempts=5)


class TaskRunner:
    """Polls for, executes and reports the tasks of a set of workers."""

    def __init__(
        self,
        client: ConductorClient,
        workers: Iterable[Worker],
        worker_id: str | None = None,
        *,
        use_update_v2: bool = True,
        poll_backoff: Backoff = DEFAULT_POLL_BACKOFF,
        update_backoff: Backoff = DEFAULT_UPDATE_BACKOFF,
        min_poll_interval: float = 0.1,
    ) -> None:
        self._workers = list(workers)
        _check_workers(self._workers)
        self._worker_id = worker_id or socket.gethostname()
        self._stopping = asyncio.Event()
        self._reporter = ResultReporter(client, use_update_v2=use_update_v2, backoff=update_backoff)
        self._pollers = [
            Poller(
                client,
                worker,
                self._worker_id,
                self._reporter,
                self._stopping,
                poll_backoff=poll_backoff,
                min_poll_interval=min_poll_interval,
            )
            for worker in self._workers
        ]
        self._main: asyncio.Task[None] | None = None
        self._forced = False

    @property
    def worker_id(self) -> str:
        return self._worker_id

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stopping.is_set()

    async def run(self) -> None:
        """Poll and execute tasks until stop() completes; may be called once."""
        if self._main is not None:
            raise RuntimeError("TaskRunner.run() may only be called once")
        logger.info(
            "worker %s polling for %s",
            self._worker_id,
            ", ".join(worker.task_type for worker in self._workers),
        )
        # A separate task gives stop() something to cancel without cancelling our caller.
        self._main = asyncio.create_task(self._run_pollers(), name="task-runner")
        try:
            await self._main
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # Cancelled by stop() after the grace period: a normal end of run(). If our
            # own task is being cancelled as well, that cancellation must propagate.
            if self._forced and (current is None or current.cancelling() == 0):
                return
            raise
        finally:
            logger.info("worker %s stopped", self._worker_id)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop claiming tasks, wait up to `grace_seconds` for running ones, then cancel them."""
        self._stopping.set()
        main = self._main
        if main is None or main.done():
            return
        done, _ = await asyncio.wait({main}, timeout=grace_seconds)
        if done:
            return
        logger.warning("grace period of %.1fs is over; cancelling remaining tasks", grace_seconds)
        self._forced = True
        main.cancel()
        await asyncio.wait({main})

    async def _run_pollers(self) -> None:
        async with asyncio.TaskGroup() as group:
            for poller, worker in zip(self._pollers, self._workers, strict=True):
                group.create_task(poller.run(), name=f"poll:{worker.task_type}")


def _check_workers(workers: list[Worker]) -> None:
    seen: set[tuple[str, str | None]] = set()
    for worker in workers:
        check_worker(worker)
        key = (worker.task_type, worker.domain)
        if key in seen:
            raise ValueError(f"two workers for task type {worker.task_type!r}, domain {key[1]!r}")
        seen.add(key)
