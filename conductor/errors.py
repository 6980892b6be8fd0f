"""Domain errors; the API maps each to Conductor's error body and HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConductorError(Exception):
    status = 500
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ConductorError):
    status = 404


class Conflict(ConductorError):
    status = 409


class BadRequest(ConductorError):
    status = 400


class PayloadTooLarge(BadRequest):
    """A payload over its configured cap. Conductor fails such a start with its own words and a
    500 (an unmapped TerminateWorkflowException); the request is at fault, so ours is a 400."""


class IllegalState(ConductorError):
    """Conductor answers some refused operations (resume, skip) with a 500: kept for the wire."""

    status = 500


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    invalid_value: Any = None


class ValidationFailed(BadRequest):
    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        super().__init__(message or "Validation failed, check below errors for detail.")
        self.errors = errors


class StaleState(ConductorError):
    """A compare-and-set write found the row changed since it was read; the caller retries."""

    status = 409
    retryable = True
