"""Cron parsing and fire-time arithmetic (APScheduler underneath): both syntaxes, zones, DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conductor.timers.cron import CronError, fire_times, trigger


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_five_field_crontab() -> None:
    assert fire_times(trigger("*/15 * * * *"), ms(2024, 1, 1, 0, 0), None, 3) == [
        ms(2024, 1, 1, 0, 15),
        ms(2024, 1, 1, 0, 30),
        ms(2024, 1, 1, 0, 45),
    ]


def test_six_field_quartz_with_question_mark_and_sunday_one_days() -> None:
    # Quartz: 2-6 is Monday to Friday. 2024-03-30 is a Saturday.
    cron = trigger("0 30 9 ? * 2-6", "UTC")
    assert fire_times(cron, ms(2024, 3, 30, 0, 0), None, 2) == [
        ms(2024, 4, 1, 9, 30),
        ms(2024, 4, 2, 9, 30),
    ]
    first_of_month = trigger("0 0 0 1 * ?", "UTC")
    assert fire_times(first_of_month, ms(2024, 1, 15, 0, 0), None, 2) == [
        ms(2024, 2, 1),
        ms(2024, 3, 1),
    ]


def test_zone_and_daylight_saving_follow_the_zone() -> None:
    cron = trigger("0 0 9 * * ?", "Europe/Berlin")
    # Berlin moves to summer time on 2024-03-31: 09:00 local is 08:00 then 07:00 UTC.
    assert fire_times(cron, ms(2024, 3, 30, 0, 0), None, 2) == [
        ms(2024, 3, 30, 8, 0),
        ms(2024, 3, 31, 7, 0),
    ]


def test_end_time_and_limit() -> None:
    cron = trigger("0 * * * *")
    assert fire_times(cron, ms(2024, 1, 1), ms(2024, 1, 1, 2, 0), 10) == [
        ms(2024, 1, 1, 1, 0),
        ms(2024, 1, 1, 2, 0),
    ]


@pytest.mark.parametrize(
    ("expression", "zone"),
    [
        ("* * *", "UTC"),
        ("61 * * * *", "UTC"),
        ("0 0 0 L * ?", "UTC"),
        ("0 * * * *", "Mars/Olympus"),
    ],
)
def test_invalid_expressions_and_zones(expression, zone) -> None:
    with pytest.raises(CronError):
        trigger(expression, zone)
