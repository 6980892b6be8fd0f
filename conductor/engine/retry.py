"""Retry delays per TaskDef (Conductor's DeciderService.retry): pure arithmetic."""

from __future__ import annotations

from conductor.engine.model import RetryLogic, TaskSettings

_INT_MAX = 2**31 - 1


def retry_delay_seconds(settings: TaskSettings, failed_attempt: int) -> int:
    """Seconds to wait before the attempt after `failed_attempt` (0 for the first failure)."""
    base = settings.retry_delay_seconds
    if settings.retry_logic is RetryLogic.LINEAR_BACKOFF:
        delay = base * settings.backoff_scale_factor * (failed_attempt + 1)
    elif settings.retry_logic is RetryLogic.EXPONENTIAL_BACKOFF:
        delay = base * (2 ** min(failed_attempt, 62))
    else:
        delay = base
    delay = min(delay, _INT_MAX)  # Conductor saturates on int overflow
    if settings.max_retry_delay_seconds > 0:
        delay = min(delay, settings.max_retry_delay_seconds)
    return max(delay, 0)


def can_retry(settings: TaskSettings, override_count: int | None, failed_attempt: int) -> bool:
    """True while the attempt is below the allowed retries (a WorkflowTask count wins)."""
    allowed = override_count if override_count is not None else settings.retry_count
    return failed_attempt < allowed
