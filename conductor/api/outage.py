"""A database outage as the API sees it: one WARNING when requests start failing for want of
PostgreSQL, one INFO when they succeed again; in between, requests get a retryable 503."""

from __future__ import annotations

import logging
import time

from aiohttp import web

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


class DatabaseOutage:
    def __init__(self) -> None:
        self._since: float | None = None
        self.failed_requests = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def noticed(self, exc: BaseException) -> None:
        self.failed_requests += 1
        if self._since is None:
            self._since = time.monotonic()
            log.warning(
                "the database is unavailable (%s: %s); requests get 503 until it is back",
                type(exc).__name__,
                exc,
            )

    def request_succeeded(self) -> None:
        if self._since is None:
            return
        log.info(
            "the database is available again after %.1f s (%d requests refused meanwhile)",
            time.monotonic() - self._since,
            self.failed_requests,
        )
        self._since = None
        self.failed_requests = 0


OUTAGE = web.AppKey("database_outage", DatabaseOutage)
