"""How times and durations read on the pages."""

from __future__ import annotations

import pytest

from conductor.ui.formatting import duration, epoch_ms, iso_time, utc_time

NOON = 1_796_385_600_000  # 2026-12-04 12:00:00 UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NOON, NOON),
        ("2026-12-04T12:00:00.000Z", NOON),  # what search summaries carry
        ("2026-12-04T12:00:00.250+00:00", NOON + 250),
        ("2026-12-04T12:00:00", None),  # no zone: not guessed
        ("yesterday", None),
        ("", None),
        (0, None),
        (-5, None),
        (True, None),
        (None, None),
    ],
)
def test_times_are_read_from_milliseconds_or_iso_text(value: object, expected: int | None) -> None:
    assert epoch_ms(value) == expected


def test_a_summary_time_and_an_execution_time_read_the_same() -> None:
    assert utc_time("2026-12-04T12:00:00.000Z") == utc_time(NOON) == "2026-12-04 12:00:00 UTC"
    assert iso_time("2026-12-04T12:00:00.000Z") == "2026-12-04T12:00:00.000+00:00"
    assert utc_time("not a time") == iso_time(None) == ""


@pytest.mark.parametrize(
    ("ms", "expected"),
    [(850, "850 ms"), (12_300, "12.3 s"), (245_000, "4 min 05 s"), (31 * 86_400_000, "31 d 00 h")],
)
def test_durations(ms: int, expected: str) -> None:
    assert duration(ms) == expected
