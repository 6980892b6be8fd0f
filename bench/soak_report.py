"""The soak bench's goals, how each is judged from the windows, and its markdown report.

Window 0 is the state before the soak; window 1 is a warm-up and counts for no goal.

- Throughput drift: the mean tasks/s of the last five windows against that of windows 2-6, as
  a percentage; met if within ±10 %. (The arrivals are paced, so a server keeping up shows no
  drift; falling behind shows as a drop, a RUNNING count that grows and dispatch times that
  rise.)
- RSS growth: the server's VmRSS at the end of the last window minus at the end of window 2;
  met if at most 20 MiB.
- Sizes bounded: per table (with its TOAST and indexes), the growth over the second half of the
  soak (end of window N/2 to the end) against the growth over the first half (before the soak
  to the end of window N/2). A table growing at a steady pace grows as much in both halves; one
  that settles once retention removes as much as arrives grows little in the second. Met if,
  for every table, the second half grew at most 25 % of what the first did, or at most 1 MiB
  (a few pages of noise, and tables that hardly change). The sizes are those of the files,
  which never shrink: space of removed rows is reused once (auto)vacuum has reclaimed it, so
  with autovacuum off (the report says so) dead rows pile up whatever retention does, and this
  goal then judges the PostgreSQL's configuration, not the server; the rows stored (live rows)
  show what retention achieved.
- Nothing lost or stuck: after the last start the workers keep going until every run started
  has finished (or ``--drain-seconds`` pass); met if every one ended COMPLETED and no run is
  left RUNNING in the database.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.machine import Machine

DRIFT_MAX_PCT = 10.0
RSS_GROWTH_MAX_MIB = 20.0
SECOND_HALF_MAX_SHARE = 0.25
SIZE_SLACK_MIB = 1.0
MAIN_TABLES = ("workflow", "task", "task_queue", "timer", "task_log", "workflow_idempotency")
MIB = 1024 * 1024


def summarise(
    samples: list[dict[str, Any]], autovacuum: bool, accounting: dict[str, Any]
) -> dict[str, Any]:
    """The goals' figures and verdicts from window 0 (before) and windows 1..N; `autovacuum`:
    whether the PostgreSQL ran with it on; `accounting`: the runs started and how they ended."""
    before, windows = samples[0], samples[1:]
    n = len(windows)
    rates = [w["tasks_per_s"] for w in windows]
    early, late = rates[1:6], rates[max(1, n - 5) :]
    drift = 100 * (statistics.mean(late) - statistics.mean(early)) / statistics.mean(early)
    rss_growth = windows[-1]["rss_mib"] - windows[1]["rss_mib"]
    middle = windows[n // 2 - 1]
    sizes = {
        name: _growth(before["tables"].get(name), middle["tables"].get(name), end)
        for name, end in windows[-1]["tables"].items()
    }
    totals = [sum(t["total"] for t in s["tables"].values()) for s in (before, middle, windows[-1])]
    all_tables = _verdict(totals[0], totals[1], totals[2])
    bounded = all(s["bounded"] for s in sizes.values())
    none_lost = (
        accounting["completed"] == accounting["started"] and accounting["running_at_end"] == 0
    )
    return {
        "windows": n,
        "early_windows": f"2-{min(6, n)}",
        "late_windows": f"{max(2, n - 4)}-{n}",
        "tasks_per_s_early": round(statistics.mean(early), 1),
        "tasks_per_s_late": round(statistics.mean(late), 1),
        "tasks_per_s_after_warm_up": round(statistics.mean(rates[1:]), 1),
        "throughput_drift_pct": round(drift, 1),
        "drift_met": abs(drift) <= DRIFT_MAX_PCT,
        "rss_growth_mib": round(rss_growth, 1),
        "rss_met": rss_growth <= RSS_GROWTH_MAX_MIB,
        "middle_window": middle["window"],
        "sizes": sizes,
        "all_tables": all_tables,
        "sizes_met": bounded,
        "autovacuum": autovacuum,
        "accounting": accounting,
        "none_lost_met": none_lost,
        "passed": abs(drift) <= DRIFT_MAX_PCT
        and rss_growth <= RSS_GROWTH_MAX_MIB
        and bounded
        and none_lost,
    }


def _growth(
    start: dict[str, int] | None, middle: dict[str, int] | None, end: dict[str, int]
) -> dict[str, Any]:
    start, middle = start or {"total": 0, "indexes": 0}, middle or {"total": 0, "indexes": 0}
    found = _verdict(start["total"], middle["total"], end["total"])
    found["indexes_mib"] = [round(s["indexes"] / MIB, 2) for s in (start, middle, end)]
    found["rows_at_end"] = {"live": end["live"], "dead": end["dead"]}
    found["vacuums"] = end["vacuums"] - start.get("vacuums", 0)
    return found


def _verdict(start: int, middle: int, end: int) -> dict[str, Any]:
    first, second = (middle - start) / MIB, (end - middle) / MIB
    return {
        "total_mib": [round(b / MIB, 2) for b in (start, middle, end)],
        "first_half_mib": round(first, 2),
        "second_half_mib": round(second, 2),
        "bounded": second <= max(SECOND_HALF_MAX_SHARE * first, SIZE_SLACK_MIB),
    }


def markdown(report: dict[str, Any]) -> str:
    machine: Machine = report["machine"]
    summary = report["summary"]
    windows = report["windows"]
    lines = [
        f"Command: `{report['command']}`",
        f"Machine: {machine.summary()}",
        f"Raw limit R (1-row INSERT commits/s over 8 connections): "
        f"{report['raw_before']} before, {report['raw_after']} after",
        _rate_line(report),
        f"Retention: runs removed {report['retention_days'] * 24 * 60:g} min after they end "
        f"(CONDUCTOR_RETENTION_DAYS={report['retention_days']:.6f}); "
        f"one window = {report['window_seconds']:g} s; autovacuum {report['autovacuum']}.",
        "",
        "| window | end, min | starts/s | tasks/s | dispatch p50 / p99 ms | RUNNING "
        "| runs stored | removed/s | RSS MiB | workflow MiB | task MiB | task_queue MiB "
        "| timer MiB | all tables MiB | CPU ms/task server / PG |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in windows:
        lines.append(_window_row(w))
    lines += ["", _sizes_table(summary), "", _goals_table(summary)]
    errors = sum(w.get("start_errors", 0) for w in windows)
    lag = max(w.get("start_lag_max_s", 0.0) for w in windows)
    lines.append(
        f"\nStarts failed: {errors}; longest a start was sent after its due time: {lag:.3f} s."
    )
    return "\n".join(lines) + "\n"


def _rate_line(report: dict[str, Any]) -> str:
    rate = report["rate_tasks_per_s"]
    paced = f"{rate} tasks/s ({report['workflows_per_s']} runs/s) = {report['rate_per_r']} R"
    m1 = report["m1"]
    if m1 is None:
        return f"Rate: {paced}, given with --rate."
    return (
        f"Rate: half of M1's {m1['tasks_per_s']} tasks/s ({report['m1_tasks_per_r']} R, "
        f"{m1['workflows']} runs, dispatch p99 {m1['dispatch_ms_p99']} ms) = {paced}."
    )


def _mib(sample: dict[str, Any], table: str) -> str:
    found = sample["tables"].get(table)
    return f"{found['total'] / MIB:.2f}" if found else "-"


def _window_row(w: dict[str, Any]) -> str:
    total = sum(t["total"] for t in w["tables"].values()) / MIB
    sizes = " | ".join(_mib(w, t) for t in ("workflow", "task", "task_queue", "timer"))
    if w["window"] == 0:
        return (
            f"| 0 (before) | 0 | | | | {w['running']} | {w['runs_stored']} | "
            f"| {w['rss_mib']} | {sizes} "
            f"| {total:.2f} | |"
        )
    return (
        f"| {w['window']} | {w['end_min']} | {w['starts_per_s']} | {w['tasks_per_s']} "
        f"| {w['dispatch_ms_p50']} / {w['dispatch_ms_p99']} | {w['running']} "
        f"| {w['runs_stored']} | {w['purged_per_s']} | {w['rss_mib']} | {sizes} | {total:.2f} "
        f"| {w['cpu_ms_per_task_server']} / {w['cpu_ms_per_task_postgres']} |"
    )


def _sizes_table(summary: dict[str, Any]) -> str:
    middle = summary["middle_window"]
    lines = [
        f"Sizes, MiB with TOAST and indexes (of which indexes): before the soak, end of window "
        f"{middle}, end. Bounded: second-half growth ≤ {SECOND_HALF_MAX_SHARE:.0%} of the "
        f"first half's, or ≤ {SIZE_SLACK_MIB:g} MiB.",
        "",
        "| table | before | middle | end | first half | second half | bounded "
        "| rows at end, live / dead | vacuums |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    sizes = summary["sizes"]
    shown = [t for t in MAIN_TABLES if t in sizes] + sorted(
        t
        for t, s in sizes.items()
        if t not in MAIN_TABLES and (s["total_mib"][0] != s["total_mib"][2] or not s["bounded"])
    )
    for table in shown:
        s = sizes[table]
        cells = [
            f"{t:.2f} ({i:.2f})" for t, i in zip(s["total_mib"], s["indexes_mib"], strict=True)
        ]
        rows = f"{s['rows_at_end']['live']:,} / {s['rows_at_end']['dead']:,}"
        lines.append(
            f"| {table} | {' | '.join(cells)} | {_half_cells(s)} | {rows} | {s['vacuums']} |"
        )
    every = summary["all_tables"]
    cells = [f"{t:.2f}" for t in every["total_mib"]]
    lines.append(f"| all tables | {' | '.join(cells)} | {_half_cells(every)} | | |")
    return "\n".join(lines)


def _half_cells(s: dict[str, Any]) -> str:
    verdict = "yes" if s["bounded"] else "**no**"
    return f"{s['first_half_mib']:+.2f} | {s['second_half_mib']:+.2f} | {verdict}"


def _goals_table(summary: dict[str, Any]) -> str:
    def mark(met: bool) -> str:
        return "met" if met else "**NOT met**"

    unbounded = [t for t, s in summary["sizes"].items() if not s["bounded"]]
    sizes_value = "all bounded" if not unbounded else "growing: " + ", ".join(unbounded)
    lines = [
        "| goal | value | verdict |",
        "|---|---|---|",
        f"| throughput drift, windows {summary['late_windows']} vs {summary['early_windows']} "
        f"({summary['tasks_per_s_late']} vs {summary['tasks_per_s_early']} tasks/s) "
        f"| {summary['throughput_drift_pct']:+.1f} % | ≤ ±{DRIFT_MAX_PCT:g} %: "
        f"{mark(summary['drift_met'])} |",
        f"| server RSS growth, end of window 2 to the end | {summary['rss_growth_mib']:+.1f} MiB "
        f"| ≤ {RSS_GROWTH_MAX_MIB:g} MiB: {mark(summary['rss_met'])} |",
        f"| table and index sizes bounded | {sizes_value} | {mark(summary['sizes_met'])} |",
        f"| runs lost or stuck | {_accounting_cell(summary['accounting'])} "
        f"| none: {mark(summary['none_lost_met'])} |",
    ]
    if not summary["autovacuum"]:
        lines.append(
            "\n**autovacuum is off on this PostgreSQL**: no dead row is reclaimed, so tables "
            "grow whatever retention removes; the sizes verdict judges that setting, not the "
            "server (see the runs stored and the live rows instead)."
        )
    if summary["windows"] < 10:
        lines.append(
            f"\nWith {summary['windows']} windows the early and late ranges overlap: "
            "a short run shows that the bench works, not that the server holds for half an hour."
        )
    return "\n".join(lines)


def _accounting_cell(a: dict[str, Any]) -> str:
    otherwise = ", ".join(f"{n:,} {status}" for status, n in a["ended_otherwise"].items())
    return (
        f"{a['started']:,} started, {a['completed']:,} COMPLETED"
        f"{', ' + otherwise if otherwise else ''}, {a['unfinished']:,} unfinished, "
        f"{a['running_at_end']} RUNNING at the end ({a['drain_s']} s after the last start)"
    )
