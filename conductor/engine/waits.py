"""WAIT task times: Conductor's `duration` and `until` forms, to an absolute epoch-ms due time.

`duration`: `[N days|day|d] [N hours|hour|hrs|hr|h] [N minutes|minute|mins|min|m]
[N seconds|second|secs|sec|s]`, case-insensitive, spaces optional, in that order (`30s`, `5m`,
`2 days 3 hours`, `1d2h`). `until`: `yyyy-MM-dd HH:mm`, the same with a zone (`UTC`, `GMT`, an
offset such as `+02:00`, or an IANA name such as `Europe/Berlin`), `yyyy-MM-dd`, or ISO 8601. A
time without a zone is UTC. Pure: `now` is an argument.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*(?:days|day|d))?"
    r"\s*(?:(\d+)\s*(?:hours|hour|hrs|hr|h))?"
    r"\s*(?:(\d+)\s*(?:minutes|minute|mins|min|m))?"
    r"\s*(?:(\d+)\s*(?:seconds|second|secs|sec|s))?\s*$",
    re.IGNORECASE,
)
_UNTIL = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?\s*(.*?)\s*$")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


class WaitError(ValueError):
    """The WAIT input cannot be turned into a due time."""


def duration_ms(text: str) -> int:
    match = _DURATION.match(text)
    if match is None or not any(match.groups()):
        raise WaitError(f"Invalid duration: {text!r}")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return int(
        timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds() * 1000
    )


def _zone(text: str) -> tzinfo:
    if text in ("", "UTC", "GMT", "Z", "utc", "gmt", "z"):
        return UTC
    offset = _OFFSET.match(text)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WaitError(f"Unknown time zone: {text!r}") from exc


def until_ms(text: str) -> int:
    try:  # ISO 8601 with an offset, e.g. 2031-01-31T15:00:00+01:00
        parsed = datetime.fromisoformat(text.strip())
        if parsed.tzinfo is not None:
            return int(parsed.timestamp() * 1000)
    except ValueError:
        pass
    match = _UNTIL.match(text)
    if match is None:
        raise WaitError(f"Invalid date-time for until: {text!r}")
    day, clock, zone = match.groups()
    try:
        local = datetime.fromisoformat(f"{day}T{clock or '00:00'}")
    except ValueError as exc:
        raise WaitError(f"Invalid date-time for until: {text!r}") from exc
    return int(local.replace(tzinfo=_zone(zone)).timestamp() * 1000)


def due_time(duration: object, until: object, now: int) -> int | None:
    """The epoch-ms time a WAIT completes; None to wait for an external update."""
    has_duration = duration not in (None, "")
    has_until = until not in (None, "")
    if has_duration and has_until:
        raise WaitError("Both 'duration' and 'until' specified. Please provide only one input")
    if has_duration:
        return now + duration_ms(str(duration))
    if has_until:
        return until_ms(str(until))
    return None
