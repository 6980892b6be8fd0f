"""DatabaseClock: the database's time carried by the monotonic clock, never going backwards."""

from __future__ import annotations

import time

from conductor.clock import DatabaseClock

HOUR_MS = 3_600_000


def test_before_any_anchor_it_reads_the_wall_clock() -> None:
    clock = DatabaseClock()
    assert abs(clock.now_ms() - time.time_ns() // 1_000_000) < 1_000


def test_an_anchor_moves_it_to_the_database_time_whatever_the_host_says() -> None:
    clock = DatabaseClock()
    database_ms = time.time_ns() // 1_000_000 + HOUR_MS  # the host is an hour behind
    clock.anchor(database_ms * 1_000, time.monotonic_ns())
    assert abs(clock.now_ms() - database_ms) < 1_000
    assert abs(clock.offset_ms - HOUR_MS) < 1_000


def test_it_advances_with_the_monotonic_clock_from_the_anchor() -> None:
    clock = DatabaseClock()
    ten_s_ago = time.monotonic_ns() - 10_000_000_000
    clock.anchor(1_000_000_000, ten_s_ago)
    assert 1_010_000 <= clock.now_ms() < 1_011_000


def test_a_later_anchor_behind_the_last_reading_never_takes_it_backwards() -> None:
    clock = DatabaseClock()
    clock.anchor(5_000_000_000, time.monotonic_ns())
    first = clock.now_ms()
    clock.anchor(4_000_000_000, time.monotonic_ns())  # the database's clock was stepped back
    assert clock.now_ms() == first


def test_the_anchor_keeps_the_database_time_below_a_millisecond() -> None:
    """An anchor 0.9 ms into a millisecond reads that millisecond's end 0.1 ms later, not 1 ms
    later: the sub-millisecond part is kept, not rounded away."""
    clock = DatabaseClock()
    now_ns = time.monotonic_ns()
    clock.anchor(7_000_000_900, now_ns - 100_000)  # 7,000,000.9 ms, read 0.1 ms ago
    assert clock.now_ms() >= 7_000_001
