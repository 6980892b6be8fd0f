"""Deliver task results to the server, retrying transient failures with backoff.

Retrying is safe because the server ignores an update for a task that is already
terminal (spec §7, "Stale updates"). With update-v2 the answer may carry the next task
of the same type, already claimed for this worker; the caller runs it in the same slot.
Servers without update-v2 answer 404/405, after which plain POST /tasks is used for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from workers.backoff import Backoff
from workers.client import ConductorClient
from workers.errors import ConductorError
from workers.model import Task, TaskResult

logger = logging.getLogger(__name__)

# 404 is also how an older server answers an unknown route, so it counts as "no v2"
# only once plain POST /tasks has accepted the same result (see _send).
_V2_MISSING = frozenset({404, 405})
_RETRY_4XX = frozenset({408, 429})


def is_transient(exc: Exception) -> bool:
    """Tell whether a failed request may succeed if sent again."""
    if isinstance(exc, ConductorError):
        return exc.retryable or exc.status >= 500 or exc.status in _RETRY_4XX
    return isinstance(exc, aiohttp.ClientError | TimeoutError)


class ResultReporter:
    """Sends TaskResults for all tasks of one runner; remembers whether update-v2 works."""

    def __init__(
        self,
        client: ConductorClient,
        *,
        use_update_v2: bool = True,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._v2 = use_update_v2
        self._backoff = backoff or Backoff()
        self._sleep = sleep

    @property
    def uses_update_v2(self) -> bool:
        return self._v2

    async def report(self, result: TaskResult, *, want_next: bool) -> Task | None:
        """Send `result`; return the next claimed task if `want_next` and the server gave one.

        Never raises for delivery problems: after the last attempt the result is logged
        as lost and the server's response timeout will eventually reschedule the task.
        """
        attempts = self._backoff.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(result, want_next=want_next)
            except Exception as exc:
                if not is_transient(exc) or attempt == attempts:
                    logger.error(
                        "result lost for task %s (workflow %s, status %s) after %d attempt(s): %s",
                        result.task_id,
                        result.workflow_instance_id,
                        result.status,
                        attempt,
                        _describe(exc),
                    )
                    return None
                delay = self._backoff.delay(attempt)
                logger.warning(
                    "update of task %s failed (attempt %d/%d): %s; retrying in %.2fs",
                    result.task_id,
                    attempt,
                    attempts,
                    _describe(exc),
                    delay,
                )
                await self._sleep(delay)
        return None

    async def _send(self, result: TaskResult, *, want_next: bool) -> Task | None:
        if not (want_next and self._v2):
            await self._client.update(result)
            return None
        try:
            return await self._client.update_v2(result)
        except ConductorError as exc:
            if exc.status not in _V2_MISSING:
                raise
        # If v1 also says 404 the task itself is unknown and this raises; v2 stays on.
        await self._client.update(result)
        logger.info("server lacks POST /tasks/update-v2; using POST /tasks from now on")
        self._v2 = False
        return None


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
