"""Retention's pacing: long rests while the hot path is busy, short ones when it is idle, a cap
so one slow batch cannot stall purging, and a long idle rest once the backlog is gone."""

from __future__ import annotations

import pytest

from conductor.services.retention import RetentionPolicy, RetentionService, others_busy, rest_ms

POLICY = RetentionPolicy(max_age_days=30, batch=100)


def test_a_busy_server_gets_a_small_share() -> None:
    rest = rest_ms(POLICY, took_ms=5.0, removed=100, hot_path_busy=True)
    assert rest == 5.0 * POLICY.busy_rest
    assert 5.0 / (5.0 + rest) < 0.01  # under 1 % of one connection's time


def test_an_idle_server_drains_fast() -> None:
    rest = rest_ms(POLICY, took_ms=5.0, removed=100, hot_path_busy=False)
    assert rest == POLICY.pause_ms  # 4 x 5 ms is under the shortest rest
    assert rest_ms(POLICY, took_ms=50.0, removed=100, hot_path_busy=False) == 200.0


def test_one_slow_batch_cannot_stall_purging() -> None:
    assert rest_ms(POLICY, took_ms=500.0, removed=100, hot_path_busy=True) == POLICY.max_rest_ms


def test_a_partial_batch_means_the_backlog_is_gone() -> None:
    assert rest_ms(POLICY, took_ms=1.0, removed=99, hot_path_busy=False) == POLICY.idle_ms
    assert rest_ms(POLICY, took_ms=1.0, removed=0, hot_path_busy=True) == POLICY.idle_ms


def test_other_clients_writes_make_the_database_busy() -> None:
    # Idle: nothing written but retention's own archive copies (reported late, maybe twice
    # in one window).
    assert not others_busy(POLICY, writes=0, own_writes=0, elapsed_s=1.0)
    assert not others_busy(POLICY, writes=190, own_writes=100, elapsed_s=1.0)
    # Another server's work: busy.
    assert others_busy(POLICY, writes=400, own_writes=0, elapsed_s=2.0)
    assert not others_busy(POLICY, writes=15, own_writes=0, elapsed_s=1.0)


class _Metrics:
    pass


def test_the_write_window_decides_once_a_window() -> None:
    service = RetentionService(None, None, _Metrics(), POLICY, hot_path_work=lambda: 0)  # type: ignore[arg-type]
    assert not service.hot_path_busy()
    service._note_writes(1000, own=0, at=0.0)
    service._note_writes(1300, own=0, at=0.5)  # inside the first window: no verdict yet
    assert not service.hot_path_busy()
    service._note_writes(1500, own=0, at=1.0)  # 500 rows written by others: busy
    assert service.hot_path_busy()
    service._note_writes(1502, own=0, at=2.1)  # then next to nothing
    assert not service.hot_path_busy()


def test_purging_keeps_pace_with_runs_finishing_however_busy_the_server() -> None:
    # Busy and slow batches would rest 2 s: at most 50 runs/s removed.
    capped = rest_ms(POLICY, took_ms=500.0, removed=100, hot_path_busy=True)
    assert capped == POLICY.max_rest_ms
    # With 57 runs/s finishing, the rest shrinks so twice that many go.
    rest = rest_ms(POLICY, took_ms=500.0, removed=100, hot_path_busy=True, finish_rate_per_s=57)
    assert POLICY.batch * 1000 / rest == pytest.approx(2 * 57)
    # A slow trickle of finishes leaves the share-based rest as it was.
    assert rest_ms(POLICY, 5.0, 100, True, finish_rate_per_s=0.5) == 5.0 * POLICY.busy_rest
    # No backlog: the long idle rest, whatever finishes.
    assert rest_ms(POLICY, 5.0, 99, True, finish_rate_per_s=500) == POLICY.idle_ms
