"""The timeline: queue and run bars per task, pending tasks reaching now, long idle gaps drawn as
labelled breaks, and nothing a hostile reference name can turn into markup."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from conductor.ui.timeline import BREAK_W, CHART_W, LABEL_W, axis_of, render_timeline, rows_of

SVG = "{http://www.w3.org/2000/svg}"
MINUTE, DAY = 60_000, 86_400_000
T0 = 1_700_000_000_000


def task(
    seq: int,
    ref: str,
    status: str,
    scheduled: int,
    start: int = 0,
    end: int = 0,
    task_type: str = "SIMPLE",
) -> Any:
    return {
        "taskType": task_type,
        "taskId": f"id-{seq}",
        "seq": seq,
        "referenceTaskName": ref,
        "status": status,
        "scheduledTime": scheduled,
        "startTime": start,
        "endTime": end,
    }


def bars(root: ElementTree.Element, task_id: str) -> dict[str, ElementTree.Element]:
    [row] = [g for g in root.iter(f"{SVG}g") if g.get("data-task-id") == task_id]
    found = {}
    for rect in row.iter(f"{SVG}rect"):
        kinds = (rect.get("class") or "").split()
        found["queue" if "queue" in kinds else "run"] = rect
    return found


def span(rect: ElementTree.Element) -> tuple[float, float]:
    x = float(rect.get("x") or 0)
    return x, x + float(rect.get("width") or 0)


def test_each_task_has_a_queue_bar_then_a_run_bar_in_seq_order() -> None:
    tasks = [
        task(2, "second", "COMPLETED", T0 + 10_000, T0 + 12_000, T0 + 20_000),
        task(1, "first", "COMPLETED", T0, T0 + 4_000, T0 + 10_000),
    ]
    root = ElementTree.fromstring(render_timeline(tasks, T0 + 99_000))
    rows = [g.get("data-task-id") for g in root.iter(f"{SVG}g") if g.get("data-task-id")]
    assert rows == ["id-1", "id-2"]
    first = bars(root, "id-1")
    queue, run = span(first["queue"]), span(first["run"])
    assert queue[0] == LABEL_W and abs(queue[1] - run[0]) < 0.2
    # No gap to compress: 20 s over the whole width, so 4 s queued is a fifth of the chart.
    assert abs((queue[1] - queue[0]) - CHART_W / 5) < 0.5
    assert abs(span(bars(root, "id-2")["run"])[1] - (LABEL_W + CHART_W)) < 0.5
    assert not list(root.iter(f"{SVG}path"))  # no break
    legend = "".join(root.find(f"{SVG}g").itertext())  # type: ignore[union-attr]
    assert "queued" in legend and "running" in legend


def test_a_month_long_wait_becomes_a_labelled_break() -> None:
    wait_end = T0 + 30 * DAY
    tasks = [
        task(1, "prepare", "COMPLETED", T0, T0 + MINUTE, T0 + 2 * MINUTE),
        task(2, "wait", "COMPLETED", T0 + 2 * MINUTE, T0 + 2 * MINUTE, wait_end, "WAIT"),
        task(3, "finish", "COMPLETED", wait_end, wait_end, wait_end + MINUTE),
    ]
    root = ElementTree.fromstring(render_timeline(tasks, T0 + 31 * DAY))
    [gap] = [g for g in root.iter(f"{SVG}g") if g.get("data-gap-ms")]
    assert int(gap.get("data-gap-ms") or 0) == 30 * DAY - 2 * MINUTE
    assert "29 d 23 h" in "".join(gap.itertext())
    # The minutes of work on each side share the width; the month takes only the break.
    prepare = span(bars(root, "id-1")["run"])
    assert prepare[1] - prepare[0] > (CHART_W - BREAK_W) / 3 - 1
    finish = span(bars(root, "id-3")["run"])
    assert abs(finish[1] - (LABEL_W + CHART_W)) < 0.5
    # The wait itself crosses the break, from the end of prepare to the start of finish.
    waited = span(bars(root, "id-2")["run"])
    assert abs(waited[0] - prepare[1]) < 0.2 and abs(waited[1] - finish[0]) < 0.2
    assert abs((waited[1] - waited[0]) - BREAK_W) < 0.2


def test_a_worker_task_running_for_days_is_work_not_a_break() -> None:
    tasks = [
        task(1, "a", "COMPLETED", T0, T0, T0 + MINUTE),
        task(2, "crunch", "COMPLETED", T0 + MINUTE, T0 + MINUTE, T0 + 3 * DAY),
    ]
    assert axis_of(rows_of(tasks, T0 + 3 * DAY)).gaps == ()


def test_a_pending_wait_ends_the_chart_in_a_break() -> None:
    now = T0 + 20 * DAY
    tasks = [
        task(1, "a", "COMPLETED", T0, T0, T0 + 5 * MINUTE),
        task(2, "wait", "IN_PROGRESS", T0 + 5 * MINUTE, T0 + 5 * MINUTE, 0, "WAIT"),
    ]
    [gap] = axis_of(rows_of(tasks, now)).gaps
    assert (gap.start, gap.end) == (T0 + 5 * MINUTE, now)
    # A run that has only waited has nothing to keep readable: drawn to scale.
    assert axis_of(rows_of(tasks[1:], now)).gaps == ()


def test_short_gaps_stay_to_scale() -> None:
    tasks = [
        task(1, "a", "COMPLETED", T0, T0, T0 + 10 * MINUTE),
        # 50 s idle: under a minute, so it is not compressed though it is 8 % of the span.
        task(
            2,
            "b",
            "COMPLETED",
            T0 + 10 * MINUTE + 50_000,
            T0 + 10 * MINUTE + 50_000,
            T0 + 11 * MINUTE,
        ),
    ]
    assert axis_of(rows_of(tasks, T0)).gaps == ()
    # 5 minutes idle in 3 hours: over a minute, but under a tenth of the span.
    tasks = [
        task(1, "a", "COMPLETED", T0, T0, T0 + 100 * MINUTE),
        task(2, "b", "COMPLETED", T0 + 105 * MINUTE, T0 + 105 * MINUTE, T0 + 180 * MINUTE),
    ]
    assert axis_of(rows_of(tasks, T0)).gaps == ()


def test_pending_tasks_reach_now() -> None:
    now = T0 + 10 * MINUTE
    tasks = [
        task(1, "running", "IN_PROGRESS", T0, T0 + MINUTE),
        task(2, "queued", "SCHEDULED", T0 + 5 * MINUTE),
    ]
    rows = rows_of(tasks, now)
    assert [(r.end, r.pending) for r in rows] == [(now, True), (now, True)]
    root = ElementTree.fromstring(render_timeline(tasks, now))
    running = bars(root, "id-1")
    assert "pending" in (running["run"].get("class") or "")
    assert abs(span(running["run"])[1] - (LABEL_W + CHART_W)) < 0.5
    queued = bars(root, "id-2")
    assert set(queued) == {"queue"}  # not started: only its wait, up to now
    assert abs(span(queued["queue"])[1] - (LABEL_W + CHART_W)) < 0.5


def test_no_tasks_says_so() -> None:
    root = ElementTree.fromstring(render_timeline([], T0))
    assert "No task has been scheduled." in "".join(root.itertext())
    assert not [g for g in root.iter(f"{SVG}g") if g.get("data-task-id") is not None]


def test_hostile_names_stay_text() -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(1)>\x01'
    tasks = [{**task(1, hostile, '"><b>', T0, T0, T0 + 5), "taskId": '"><i>'}]
    svg = render_timeline(tasks, T0 + 10)
    root = ElementTree.fromstring(svg)  # still well-formed XML
    assert not [e for e in root.iter() if e.tag.split("}")[-1] in {"script", "img", "b", "i"}]
    assert "<script" not in svg
    assert not [name for e in root.iter() for name in e.attrib if name.startswith("on")]
    [row] = [g for g in root.iter(f"{SVG}g") if g.get("data-task-id") == '"><i>']
    assert row.get("class") == "row status-UNKNOWN"
    [link] = row.iter(f"{SVG}a")
    assert link.get("href") == "?tab=timeline&task=%22%3E%3Ci%3E"
    assert "script" in "".join(row.itertext())  # shown, as text
