"""Background services and their supervisor.

A `BackgroundService` is a loop of rounds: `step()` does one round and says how long to rest
before the next. A database outage or timeout in a round is expected: it is logged once per
outage and the round is retried with back-off. A rest ends early on `wake()` and at once on
`stop()`. Anything else a round raises is a bug: it ends `run()`, and the `Supervisor` logs it
with its traceback, counts it (`conductor_background_service_crashes_total`) and starts the
service again after a back-off, so one unexpected error never silently stops timers, schedules
or event handling until the next restart of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from conductor.metrics import Metrics

log = logging.getLogger(__name__)

# What a round may meet while the database is down or slow: retried, never a crash.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    TimeoutError,
)
_FIRST_RETRY_S = 0.05
_MAX_RETRY_S = 5.0


class BackgroundService:
    name = "background-service"

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()

    async def step(self) -> float:
        """One round; returns the seconds to rest before the next (0: go on at once)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the rounds held; runs whenever `run()` ends, crashed or stopped."""

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()

    def wake(self) -> None:
        """End the current rest early."""
        self._woken.set()

    async def run(self) -> None:
        retry_s = _FIRST_RETRY_S
        failing = False
        try:
            while not self.stopping:
                try:
                    rest_s = await self.step()
                except TRANSIENT_ERRORS as exc:
                    if not failing:
                        log.warning("%s: %s; retrying", self.name, str(exc) or type(exc).__name__)
                    failing = True
                    rest_s, retry_s = retry_s, min(retry_s * 2, _MAX_RETRY_S)
                else:
                    if failing:
                        log.info("%s: working again", self.name)
                    failing = False
                    retry_s = _FIRST_RETRY_S
                await self.rest(rest_s)
        finally:
            await self.close()

    async def rest(self, seconds: float) -> None:
        """Wait `seconds`, or until woken or stopped."""
        if seconds <= 0 or self.stopping:
            return
        self._woken.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._woken.wait()


class Periodic(BackgroundService):
    """Runs an action every `interval_s` seconds."""

    def __init__(self, name: str, action: Callable[[], Awaitable[object]], interval_s: float):
        super().__init__()
        self.name = name
        self._action = action
        self.interval_s = interval_s

    async def step(self) -> float:
        await self._action()
        return self.interval_s


class Supervisor:
    """Runs services, restarting one that crashes after a back-off that doubles per crash (reset
    once it has run `healthy_after_s` without crashing)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        first_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        healthy_after_s: float = 60.0,
    ) -> None:
        self.metrics = metrics
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.healthy_after_s = healthy_after_s
        self._running: dict[BackgroundService, asyncio.Task[None]] = {}

    def start(self, service: BackgroundService) -> None:
        task = asyncio.create_task(self._supervise(service), name=f"supervised:{service.name}")
        self._running[service] = task

    async def stop(self, grace_s: float = 5.0) -> None:
        """Ask every service to stop, wait up to `grace_s`, then cancel what still runs."""
        for service in self._running:
            service.stop()
        tasks = list(self._running.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace_s)
            for task in pending:
                log.warning("%s did not stop within %.0f s; cancelling", task.get_name(), grace_s)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()

    async def _supervise(self, service: BackgroundService) -> None:
        loop = asyncio.get_running_loop()
        backoff_s = self.first_backoff_s
        while not service.stopping:
            started = loop.time()
            try:
                await service.run()
            except Exception:
                if loop.time() - started >= self.healthy_after_s:
                    backoff_s = self.first_backoff_s
                log.exception(
                    "background service %s crashed; restarting in %.1f s", service.name, backoff_s
                )
                self.metrics.background_crashes.labels(service.name).inc()
                await service.rest(backoff_s)
                backoff_s = min(backoff_s * 2, self.max_backoff_s)
            else:
                return
