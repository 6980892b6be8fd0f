"""What validation reports: a problem with the field path it is about, and small value checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ValidationError:
    path: str
    message: str
    invalid_value: Any = None


def is_blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def non_negative_int(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
