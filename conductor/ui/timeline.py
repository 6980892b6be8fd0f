"""An execution's timeline (a Gantt chart) as SVG, laid out in pure Python.

One row per task attempt in `seq` order: the time it waited in its queue (scheduled to started)
and the time it ran (started to ended) are two bars of different classes, named in a legend in
words. A task still pending reaches `now`. A long stretch where nothing works (no task queued or
running but those that only wait: a month-long WAIT, a HUMAN task, a join, a sub-workflow; or a
retry back-off of hours) is not drawn to scale: it becomes a narrow break labelled with its real
length, so that the work around it stays readable. Waiting bars cross the break.

Like the diagram it is made for a strict Content-Security-Policy (classes only, no style or
script) and escapes every text a workflow carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from conductor.engine.model import TaskStatus
from conductor.ui.formatting import duration

LABEL_W, CHART_W, ROW_H, TOP, BREAK_W = 220, 760, 22, 44, 28
MAX_LABEL = 30  # characters of a reference name; the full name is in the row's title
# A gap is compressed only when it is both this long and this share of the whole span.
MIN_GAP_MS, MIN_GAP_SHARE = 60_000, 0.10
_STATUSES = frozenset(s.value for s in TaskStatus)
# Types whose running is waiting on something else: they do not keep a stretch from a break.
WAITING_TYPES = frozenset(
    {"WAIT", "HUMAN", "JOIN", "EXCLUSIVE_JOIN", "DO_WHILE", "SUB_WORKFLOW", "EVENT"}
)
_PENDING = frozenset(s.value for s in TaskStatus if not s.terminal)


@dataclass(frozen=True)
class Row:
    """One task attempt on the time axis; `start` is None when it never started."""

    task_id: str
    label: str
    status: str
    scheduled: int
    start: int | None
    end: int
    pending: bool
    waits: bool = False  # a WAITING_TYPES task: only its queue time is work

    @property
    def busy_until(self) -> int:
        if not self.waits:
            return self.end
        return self.start if self.start is not None else self.end


@dataclass(frozen=True)
class Gap:
    """A stretch with no task scheduled or running, drawn as a break."""

    start: int
    end: int


@dataclass(frozen=True)
class Axis:
    """Real time to x: linear, except that each compressed gap takes BREAK_W pixels."""

    start: int
    end: int
    gaps: tuple[Gap, ...]

    @property
    def scale(self) -> float:
        shown = (self.end - self.start) - sum(g.end - g.start for g in self.gaps)
        room = CHART_W - BREAK_W * len(self.gaps)
        return room / shown if shown > 0 else 0.0

    def x(self, at: int) -> float:
        offset, last = 0.0, self.start
        for gap in self.gaps:
            if at <= gap.start:
                break
            offset += (gap.start - last) * self.scale
            if at < gap.end:  # inside a break: proportionally within its width
                return LABEL_W + offset + BREAK_W * (at - gap.start) / (gap.end - gap.start)
            offset += BREAK_W
            last = gap.end
        return LABEL_W + offset + (at - last) * self.scale


def rows_of(tasks: Sequence[Mapping[str, Any]], now_ms: int) -> list[Row]:
    """The tasks (execution JSON) that have times, in seq order."""
    rows = []
    for task in sorted(tasks, key=lambda t: _int(t.get("seq"))):
        scheduled, start, end = (
            _int(task.get(k)) for k in ("scheduledTime", "startTime", "endTime")
        )
        status = str(task.get("status") or "")
        pending = status in _PENDING
        first = scheduled or start
        if not first:
            continue
        last = max(now_ms if pending else end or start or first, start, first)
        ref = str(task.get("referenceTaskName") or task.get("taskDefName") or "")
        waits = task.get("taskType") in WAITING_TYPES
        task_id = str(task.get("taskId") or "")
        rows.append(Row(task_id, ref, status, first, start or None, last, pending, waits))
    return rows


def axis_of(rows: Sequence[Row]) -> Axis:
    """The span of the rows and the stretches in it without work long enough to compress."""
    start, end = min(r.scheduled for r in rows), max(r.end for r in rows)
    threshold = max(MIN_GAP_MS, MIN_GAP_SHARE * (end - start))
    gaps, busy_until = [], start
    for row in sorted(rows, key=lambda r: r.scheduled):
        if row.scheduled - busy_until > threshold:
            gaps.append(Gap(busy_until, row.scheduled))
        busy_until = max(busy_until, row.busy_until)
    if end - busy_until > threshold:  # still waiting, or the last waiting task ended the run
        gaps.append(Gap(busy_until, end))
    if sum(g.end - g.start for g in gaps) >= end - start:
        return Axis(start, end, ())  # nothing but waiting: nothing to keep readable
    return Axis(start, end, tuple(gaps))


def render_timeline(tasks: Sequence[Mapping[str, Any]], now_ms: int) -> str:
    """The SVG of an execution's tasks (the `tasks` of its JSON) at `now_ms`."""
    rows = rows_of(tasks, now_ms)
    height = TOP + ROW_H * max(len(rows), 1) + 30
    width = LABEL_W + CHART_W + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        "<title>Timeline: queue wait and run time of each task</title>",
        _legend(),
    ]
    if not rows:
        out.append(f'<text class="empty" x="10" y="{TOP + 15}">No task has been scheduled.</text>')
    else:
        axis = axis_of(rows)
        # Breaks first: the bars of waiting tasks cross them.
        out.extend(_break(gap, axis, height) for gap in axis.gaps)
        out.extend(_row(i, row, axis) for i, row in enumerate(rows))
        out.append(_ticks(axis, height))
    out.append("</svg>")
    return "".join(out)


def _legend() -> str:
    return (
        '<g class="legend">'
        '<rect class="bar queue" x="10" y="8" width="18" height="10"/>'
        '<text x="34" y="17">queued (scheduled \u2192 started)</text>'
        '<rect class="bar run" x="250" y="8" width="18" height="10"/>'
        '<text x="274" y="17">running (started \u2192 ended), coloured by status</text>'
        '<g class="break"><rect x="560" y="4" width="14" height="18"/></g>'
        '<text x="580" y="17">a break: only waiting, not drawn to scale</text>'
        "</g>"
    )


def _row(index: int, row: Row, axis: Axis) -> str:
    y = TOP + index * ROW_H
    href = "?" + urlencode({"tab": "timeline", "task": row.task_id})
    label = row.label if len(row.label) <= MAX_LABEL else row.label[: MAX_LABEL - 1] + "\u2026"
    status = row.status if row.status in _STATUSES else "UNKNOWN"
    parts = [
        f'<g class="row status-{status}" data-task-id={_attr(row.task_id)}>',
        f"<title>{_text(row.label)}: {status}{_times(row)}</title>",
        f'<a href={_attr(href)}><text class="label" x="10" y="{y + 15}">{_text(label)}</text></a>',
    ]
    queue_end = row.start if row.start is not None else row.end
    parts.append(_bar("queue", axis.x(row.scheduled), axis.x(queue_end), y))
    if row.start is not None:
        pending = " pending" if row.pending else ""
        parts.append(_bar(f"run{pending}", axis.x(row.start), axis.x(row.end), y))
    parts.append("</g>")
    return "".join(parts)


def _bar(kind: str, x1: float, x2: float, y: int) -> str:
    # At least a pixel, so an instant task still shows where it happened.
    return (
        f'<rect class="bar {kind}" x="{x1:.1f}" y="{y + 4}" width="{max(x2 - x1, 1):.1f}"'
        f' height="{ROW_H - 8}"/>'
    )


def _times(row: Row) -> str:
    queued = (row.start if row.start is not None else row.end) - row.scheduled
    text = f", queued {duration(queued)}"
    if row.start is not None:
        text += f", ran {duration(row.end - row.start)}"
    return text + (" so far" if row.pending else "")


def _break(gap: Gap, axis: Axis, height: int) -> str:
    x = axis.x(gap.start)
    label = duration(gap.end - gap.start)
    return (
        f'<g class="break" data-gap-ms="{gap.end - gap.start}">'
        f"<title>{_text(label)} with only waiting tasks, not drawn to scale</title>"
        f'<rect x="{x:.1f}" y="{TOP - 4}" width="{BREAK_W}" height="{height - TOP - 22}"/>'
        f'<path d="M{x + 8:.1f} {TOP - 4} l-4 6 l8 6 l-8 6 M{x + 20:.1f} {TOP - 4} l-4 6 l8 6'
        ' l-8 6"/>'
        f'<text x="{x + BREAK_W / 2:.1f}" y="{TOP - 8}" text-anchor="middle">'
        f"{_text(label)}</text></g>"
    )


def _ticks(axis: Axis, height: int) -> str:
    """Time since the first schedule, where the chart starts, after each break and at its end."""
    marks = [axis.start, *(g.end for g in axis.gaps), axis.end]
    y = height - 22
    parts = [f'<g class="axis"><line x1="{LABEL_W}" y1="{y}" x2="{LABEL_W + CHART_W}" y2="{y}"/>']
    for at in dict.fromkeys(marks):
        label = "0" if at == axis.start else "+" + duration(at - axis.start)
        anchor = "end" if at == axis.end else "middle"  # the last one stays inside
        parts.append(
            f'<text x="{axis.x(at):.1f}" y="{y + 12}" text-anchor="{anchor}">{_text(label)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _clean(value: str) -> str:
    # XML 1.0 cannot hold control characters or lone surrogates, even escaped.
    return "".join(
        "\ufffd" if (ord(c) < 32 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF else c
        for c in value
    )


def _text(value: str) -> str:
    return escape(_clean(value))


def _attr(value: str) -> str:
    return quoteattr(_clean(value))
