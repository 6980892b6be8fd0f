"""DatabaseClock: the database's time carried by the monotonic clock, never going backwards."""

from __future__ import annotations

import time

from conductor.clock import DatabaseClock
from conductor.services.database_clock import best_reading

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


def test_the_reading_with_the_shortest_round_trip_pins_the_clock() -> None:
    """A first reading that also prepared its statement (1.5 ms) or resumed late on a busy
    loop says less about when the database read its clock than a 0.1 ms one."""
    readings = [
        (1_000_000, 5_000_001_400, 2_600_000),  # 1.6 ms: prepared first
        (3_000_000, 5_000_002_050, 3_100_000),  # 0.1 ms
        (4_000_000, 5_000_003_900, 5_000_000),  # 1.0 ms: the loop was busy
    ]
    assert best_reading(readings) == (5_000_002_050, 3_050_000)
