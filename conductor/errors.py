"""Domain errors; the API maps each to Conductor's error body and HTTP status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConductorError(Exception):
    status = 500
    retryable = False
    # A machine-readable code for the body's `error` field (the SDKs read it on 401 and 403).
    code: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ConductorError):
    status = 404


class Conflict(ConductorError):
    status = 409


class BadRequest(ConductorError):
    status = 400


class Unauthenticated(ConductorError):
    """401. EXPIRED_TOKEN and INVALID_TOKEN make the SDKs fetch a new token and retry once."""

    status = 401

    def __init__(self, message: str, code: str = "INVALID_TOKEN") -> None:
        super().__init__(message)
        self.code = code


class Forbidden(ConductorError):
    status = 403
    code = "FORBIDDEN"


class UnsupportedMediaType(ConductorError):
    status = 415


class PayloadTooLarge(BadRequest):
    """A payload over its configured cap. Conductor fails such a start with its own words and a
    500 (an unmapped TerminateWorkflowException); the request is at fault, so ours is a 400."""


class TooManyRequests(ConductorError):
    """429: the server refuses more of this work for now; `retry_after_s` goes in Retry-After."""

    status = 429
    retryable = True

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


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


class StartupRefused(Exception):
    """The server will not start as configured; the message says why and what to do."""
