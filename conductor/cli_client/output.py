"""Printing answers: aligned tables for people, the API's JSON for scripts (`--json`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

Column = tuple[str, Callable[[dict[str, Any]], Any]]
MAX_CELL = 60


def print_json(value: Any, out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], out: TextIO = sys.stdout
) -> None:
    """One line per row under a header; cells are shortened to keep lines readable."""
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    headers = [title for title, _ in columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for line in [headers, *cells]:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n")
    if not rows:
        out.write("(none)\n")


def millis(value: Any) -> str:
    """Epoch milliseconds as UTC time; blank for 0 or missing."""
    if not isinstance(value, int | float) or value <= 0:
        return ""
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())  # no line breaks or tabs inside a table
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
