"""Exceptions raised by the worker library and by worker code.

`ConductorError` reports a non-2xx answer from the server; `NonRetryableError` is
raised by worker code to fail a task without letting the server retry it.
"""

from __future__ import annotations


class ConductorError(Exception):
    """The server answered with a non-2xx status (or with a body we cannot use)."""

    def __init__(self, status: int, message: str, retryable: bool = False) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        # Conductor sets `retryable` only for its TransientException; callers that
        # decide about retries should also look at the status code.
        self.retryable = retryable


class NonRetryableError(Exception):
    """Raise from a worker to end the task as FAILED_WITH_TERMINAL_ERROR (no retries)."""
