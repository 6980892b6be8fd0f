from __future__ import annotations

import pytest

from conductor.engine.model import RetryLogic, TaskSettings
from conductor.engine.retry import can_retry, retry_delay_seconds


def settings(**kw) -> TaskSettings:
    return TaskSettings(**kw)


@pytest.mark.parametrize(
    ("logic", "delay", "scale", "attempt", "expected"),
    [
        (RetryLogic.FIXED, 5, 1, 0, 5),
        (RetryLogic.FIXED, 5, 1, 4, 5),
        (RetryLogic.LINEAR_BACKOFF, 2, 3, 0, 6),
        (RetryLogic.LINEAR_BACKOFF, 2, 3, 1, 12),
        (RetryLogic.LINEAR_BACKOFF, 2, 3, 2, 18),
        (RetryLogic.EXPONENTIAL_BACKOFF, 2, 1, 0, 2),
        (RetryLogic.EXPONENTIAL_BACKOFF, 2, 1, 1, 4),
        (RetryLogic.EXPONENTIAL_BACKOFF, 2, 1, 2, 8),
        (RetryLogic.EXPONENTIAL_BACKOFF, 2, 1, 3, 16),
    ],
)
def test_delay_per_retry_logic(logic, delay, scale, attempt, expected) -> None:
    s = settings(retry_logic=logic, retry_delay_seconds=delay, backoff_scale_factor=scale)
    assert retry_delay_seconds(s, attempt) == expected


def test_max_retry_delay_caps_backoff() -> None:
    s = settings(
        retry_logic=RetryLogic.EXPONENTIAL_BACKOFF,
        retry_delay_seconds=10,
        max_retry_delay_seconds=30,
    )
    assert [retry_delay_seconds(s, n) for n in range(4)] == [10, 20, 30, 30]


def test_exponential_saturates_instead_of_overflowing() -> None:
    s = settings(retry_logic=RetryLogic.EXPONENTIAL_BACKOFF, retry_delay_seconds=60)
    assert retry_delay_seconds(s, 200) == 2**31 - 1


def test_allowed_retries_from_task_def_or_workflow_task_override() -> None:
    s = settings(retry_count=2)
    assert [can_retry(s, None, n) for n in range(3)] == [True, True, False]
    assert can_retry(s, 0, 0) is False
    assert can_retry(s, 5, 4) is True


def test_task_def_defaults_match_conductor() -> None:
    s = TaskSettings.from_def({"name": "x"})
    assert (s.retry_count, s.retry_delay_seconds, s.response_timeout_seconds) == (3, 60, 3600)
    assert s.retry_logic is RetryLogic.FIXED
    assert s.timeout_policy.value == "TIME_OUT_WF"
