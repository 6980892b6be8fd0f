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


# Readings per anchor; the one with the shortest round trip pins the clock (see `anchor`).
READINGS = 3


def best_reading(readings: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Of (monotonic ns before, database µs, monotonic ns after) readings, the database time of
    the one with the shortest round trip and the monotonic midpoint it is pinned to."""
    before, database_us, after = min(readings, key=lambda r: r[2] - r[0])
    return database_us, (before + after) // 2


async def anchor(pool: asyncpg.Pool, clock: DatabaseClock) -> None:
    """Read the database's time and pin the clock to it at the round trip's midpoint. Of a few
    readings the one with the shortest round trip is used: a reading is only as good as half
    its round trip, and the first on a connection also prepares the statement (seen: the
    clock 1.5 ms ahead until the next anchor), while a busy event loop resumes late."""
    readings = []
    async with pool.acquire() as conn:
        for _ in range(READINGS):
            before = time.monotonic_ns()
            database_us = await task_store.database_time_us(conn)
            readings.append((before, database_us, time.monotonic_ns()))
    warned = abs(clock.offset_ms) > SKEW_WARNING_MS
    clock.anchor(*best_reading(readings))
    if abs(clock.offset_ms) > SKEW_WARNING_MS and not warned:
        log.warning(
            "this host's clock is %.1f s off the database's; timers follow the database's",
            -clock.offset_ms / 1000,
        )
