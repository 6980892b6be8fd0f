"""How values read on the pages: times, durations, JSON. Jinja filters; output is escaped by
the templates' autoescaping, never marked safe here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson


def epoch_ms(value: object) -> int | None:
    """A time as epoch milliseconds: given so (executions) or as the ISO text that search
    summaries carry (`2026-12-04T09:41:07.000Z`); None for no time."""
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return int(moment.timestamp() * 1000) if moment.tzinfo is not None else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def utc_time(value: object) -> str:
    """A time as `2026-12-04 09:41:07 UTC`; empty for no time."""
    ms = epoch_ms(value)
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(value: object) -> str:
    """The same instant for a `<time datetime>` attribute (the page shows it in local time)."""
    ms = epoch_ms(value)
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def duration(ms: object) -> str:
    """A span of milliseconds as `850 ms`, `12.3 s`, `4 min 05 s`, `3 h 02 min`, `31 d 04 h`."""
    if not isinstance(ms, int | float) or isinstance(ms, bool) or ms < 0:
        return ""
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, second = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {second:02d} s"
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minute:02d} min"
    days, hour = divmod(hours, 24)
    return f"{days} d {hour:02d} h"


def pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


FILTERS = {
    "utc_time": utc_time,
    "iso_time": iso_time,
    "duration": duration,
    "pretty_json": pretty_json,
}
