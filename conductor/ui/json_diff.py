"""A line diff of two JSON values, for reviewing a definition before it is saved. Pure: both
sides are printed one way (sorted keys, two-space indent), so only real changes differ."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["same", "added", "removed", "skipped"]

CONTEXT = 3  # unchanged lines kept around each change; longer runs fold into one marker


@dataclass(frozen=True)
class DiffLine:
    """One line of the diff. `old`/`new` are 1-based line numbers on each side (None where the
    line is absent there); a `skipped` line stands for `count` unchanged lines not shown."""

    kind: Kind
    text: str
    old: int | None = None
    new: int | None = None
    count: int = 0


def canonical(value: Any) -> str:
    """The one printing both sides of a diff share; the editors prefill it too."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def line_diff(before: str, after: str, context: int = CONTEXT) -> list[DiffLine]:
    """Every line of `after` against `before`, unchanged runs longer than the context folded."""
    old, new = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(_unchanged(old, i1, i2, j1, context, first=i1 == 0, last=i2 == len(old)))
            continue
        lines.extend(DiffLine("removed", old[i], old=i + 1) for i in range(i1, i2))
        lines.extend(DiffLine("added", new[j], new=j + 1) for j in range(j1, j2))
    return lines


def has_changes(lines: list[DiffLine]) -> bool:
    return any(line.kind in ("added", "removed") for line in lines)


def _unchanged(
    old: list[str], i1: int, i2: int, j1: int, context: int, *, first: bool, last: bool
) -> list[DiffLine]:
    """A run of equal lines: context kept after the change before it and before the next."""
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    run = [DiffLine("same", old[i], old=i + 1, new=j1 + (i - i1) + 1) for i in range(i1, i2)]
    if len(run) <= keep_head + keep_tail + 1:
        return run
    folded = len(run) - keep_head - keep_tail
    marker = DiffLine("skipped", f"{folded} unchanged lines", count=folded)
    return [*run[:keep_head], marker, *run[len(run) - keep_tail :]]
