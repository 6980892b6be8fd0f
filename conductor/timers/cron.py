"""Cron expressions of Conductor schedules: 6-field Quartz style (`sec min hour dom month dow`,
with `?`, and days of week 1-7 from Sunday) or 5-field crontab. Fire-time arithmetic, time zones
and DST come from APScheduler's CronTrigger."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

_QUARTZ_DAYS = {"1": "sun", "2": "mon", "3": "tue", "4": "wed", "5": "thu", "6": "fri", "7": "sat"}
_UNSUPPORTED = re.compile(r"[LW#]")


class CronError(ValueError):
    """The expression or zone is not one this server can schedule."""


def _zone(zone_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_id or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"Invalid zoneId: {zone_id}") from exc


def _quartz_day_of_week(field: str) -> str:
    if field == "?":
        return "*"
    # Quartz numbers days 1-7 from Sunday; name them so no numbering convention is assumed.
    return re.sub(r"\d", lambda m: _QUARTZ_DAYS.get(m.group(0), m.group(0)), field)


def trigger(expression: str, zone_id: str = "UTC") -> CronTrigger:
    fields = expression.split()
    zone = _zone(zone_id)
    if _UNSUPPORTED.search(expression):
        raise CronError(f"Cron expression {expression!r}: L, W and # are not supported")
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=zone)
        if len(fields) in (6, 7):
            second, minute, hour, day, month, dow = fields[:6]
            year = fields[6] if len(fields) == 7 else None
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day="*" if day == "?" else day,
                month=month,
                day_of_week=_quartz_day_of_week(dow),
                year=year,
                timezone=zone,
            )
    except (ValueError, TypeError) as exc:
        raise CronError(f"Invalid cron expression {expression!r}: {exc}") from exc
    raise CronError(f"Invalid cron expression {expression!r}: expected 5, 6 or 7 fields")


def fire_times(cron: CronTrigger, after_ms: int, until_ms: int | None, limit: int) -> list[int]:
    """Up to `limit` fire times (epoch ms) strictly after `after_ms` and not after `until_ms`."""
    found: list[int] = []
    now = datetime.fromtimestamp(after_ms / 1000 + 0.001, cron.timezone)
    previous = None
    while len(found) < limit:
        nxt = cron.get_next_fire_time(previous, now)
        if nxt is None:
            break
        at = int(nxt.timestamp() * 1000)
        if until_ms is not None and at > until_ms:
            break
        if at > after_ms:
            found.append(at)
        previous, now = nxt, nxt
    return found
