from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conductor.engine.waits import WaitError, due_time, duration_ms, until_ms


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1 hour", 3600),
        ("2 days 3 hours", 2 * 86400 + 3 * 3600),
        ("1d2h", 86400 + 7200),
        ("10 MINS 5 secs", 605),
        ("3650 days", 3650 * 86400),
    ],
)
def test_durations(text, seconds) -> None:
    assert duration_ms(text) == seconds * 1000


@pytest.mark.parametrize("text", ["", "soon", "5 weeks", "3 hours 2 days", "-5s"])
def test_bad_durations(text) -> None:
    with pytest.raises(WaitError):
        duration_ms(text)


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2031-01-31 15:00", _ms(2031, 1, 31, 15, 0)),
        ("2031-01-31 15:00 GMT", _ms(2031, 1, 31, 15, 0)),
        ("2031-01-31 16:00 Europe/Berlin", _ms(2031, 1, 31, 15, 0)),
        ("2031-07-31 17:00 Europe/Berlin", _ms(2031, 7, 31, 15, 0)),  # summer time
        ("2031-01-31 10:00 America/New_York", _ms(2031, 1, 31, 15, 0)),
        ("2031-01-31 17:00 +02:00", _ms(2031, 1, 31, 15, 0)),
        ("2031-01-31", _ms(2031, 1, 31, 0, 0)),
        ("2031-01-31T15:00:00Z", _ms(2031, 1, 31, 15, 0)),
    ],
)
def test_until_formats_and_zones(text, expected) -> None:
    assert until_ms(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", "2031-13-01", "2031-01-31 15:00 Mars/Base"])
def test_bad_until(text) -> None:
    with pytest.raises(WaitError):
        until_ms(text)


def test_due_time_rules() -> None:
    assert due_time(None, None, 1000) is None
    assert due_time("10s", None, 1000) == 11_000
    with pytest.raises(WaitError):
        due_time("10s", "2031-01-31", 0)
    ten_years = due_time("3652 days", None, _ms(2026, 1, 1, 0, 0))  # 2028 and 2032 leap
    assert ten_years == _ms(2036, 1, 1, 0, 0)  # well past 2**31 ms, no overflow
