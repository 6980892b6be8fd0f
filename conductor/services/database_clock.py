"""Keeps a `DatabaseClock` on the database's time: one reading at start, then every few seconds."""

from __future__ import annotations

import logging
import time

import asyncpg

from conductor.clock import DatabaseClock
from conductor.store import tasks as task_store

log = logging.getLogger(__name__)

ANCHOR_EVERY_S = 10.0
# A host whose wall clock is this far from the database's is worth a line in the log.
SKEW_WARNING_MS = 2_000


async def anchor(pool: asyncpg.Pool, clock: DatabaseClock) -> None:
    """Read the database's time and pin the clock to it, taking the round trip's midpoint."""
    async with pool.acquire() as conn:
        before = time.monotonic_ns()
        database_us = await task_store.database_time_us(conn)
        after = time.monotonic_ns()
    warned = abs(clock.offset_ms) > SKEW_WARNING_MS
    clock.anchor(database_us, (before + after) // 2)
    if abs(clock.offset_ms) > SKEW_WARNING_MS and not warned:
        log.warning(
            "this host's clock is %.1f s off the database's; timers follow the database's",
            -clock.offset_ms / 1000,
        )
