"""Durable timers: WAIT lateness, a burst of timers due at the same instant, and memory at scale.

    python -m bench.timers [--workflows 10000] [--pending 1000000] [--database-url URL]
                           [--start-concurrency 64] [--markdown-out FILE]

One run, one fresh database (``bench_<random>``, dropped at the end), one server process
(``python -m conductor server``) on it:

(a) N workflows, each a single WAIT of 5 s, started over HTTP with ``--start-concurrency``
    requests in flight. After all WAIT tasks are COMPLETED the lateness of each is read from
    the database: the task's ``end_time`` minus its due time (``body->>'waitTimeout'``).
(b) N workflows, each a single WAIT ``until`` the same instant T (far enough ahead for all
    starts to finish). Reported: the time from T until the last one completed (drain time)
    and the lateness (end_time - T) percentiles, and the fire rate (N / drain) as a ratio to
    the raw 1-connection commit rate measured at the start of the same run (the machine is
    shared and noisy; the ratio travels better than the absolute figure).
(c) M pending timers (kind WORKFLOW_TIMEOUT, due in a year) inserted straight into the
    ``timer`` table with COPY: the insert rate, and the server's RSS before and ~15 s after
    (its timer service and the /metrics gauge look at the table meanwhile); the
    ``conductor_timers_pending`` gauge is checked too.

Targets: (a) p99 < 100 ms, (b) drained within 2 s of T, (c) RSS growth < 50 MiB.
Markdown on stdout; nothing is written into the repository unless ``--markdown-out`` says so.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bench.machine import Machine
from bench.postgres import raw_commit_rate
from bench.report import command_line, write_out
from bench.scaffold import bench_database, parser, run_in_scratch, running_server
from bench.timer_phases import phase_a, phase_b, phase_c

log = logging.getLogger("bench")

TARGET_P99_MS = 100.0
TARGET_DRAIN_S = 2.0
TARGET_RSS_MIB = 50.0


def fmt_hist(hist: dict[str, float]) -> str:
    total = hist.get("+Inf", 0.0)
    shown = []
    for le, count in hist.items():
        shown.append(f"≤{le}s: {int(count)}")
        if count >= total:
            break
    return ", ".join(shown)


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def markdown(
    command: str,
    machine: Machine,
    raw_1: float,
    a: dict[str, Any],
    b: dict[str, Any],
    c: dict[str, Any],
) -> str:
    fire_rate = b["workflows"] / b["drain_s"] if b["drain_s"] > 0 else float("nan")
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {machine.summary()} ({machine.postgres_kind}, "
        f"synchronous_commit={machine.synchronous_commit}, fsync={machine.fsync})",
        "",
        "| | figure | target | |",
        "|---|---|---|---|",
        f"| (a) {a['workflows']} x WAIT 5 s: lateness p50 / p99 / max "
        f"(end_time - waitTimeout) | {a['p50']:.0f} / {a['p99']:.0f} / {a['max']:.0f} ms "
        f"| p99 < {TARGET_P99_MS:.0f} ms | {verdict(a['p99'] < TARGET_P99_MS)} |",
        f"| (a) starts | {a['starts_per_s']:.0f}/s ({a['start_seconds']:.1f} s, "
        f"{a['completed']}/{a['workflows']} completed) | | |",
        f"| (b) {b['workflows']} x WAIT until the same T: drain (last end_time - T) "
        f"| {b['drain_s']:.2f} s | < {TARGET_DRAIN_S:.0f} s "
        f"| {verdict(b['drain_s'] < TARGET_DRAIN_S)} |",
        f"| (b) lateness p50 / p99 (end_time - T) | {b['p50']:.0f} / {b['p99']:.0f} ms | | |",
        f"| (b) fire rate (workflows / drain) vs raw 1-connection commits/s | "
        f"{fire_rate:,.0f}/s vs {raw_1:,.0f}/s = **{fire_rate / raw_1:.2f}x** | | |",
        f"| (b) starts | {b['start_seconds']:.1f} s, T {b['ahead_s']:.1f} s after the last, "
        f"{b['completed']}/{b['workflows']} completed | | |",
        f"| (c) {c['pending']:,} pending timers: COPY insert rate "
        f"| {c['rows_per_s']:,.0f} rows/s ({c['insert_s']:.1f} s) | | |",
        f"| (c) server RSS before → after ~{c['waited_s']:.0f} s (peak) "
        f"| {c['rss_before']:.1f} → {c['rss_after']:.1f} MiB ({c['rss_peak']:.1f}) "
        f"| growth < {TARGET_RSS_MIB:.0f} MiB | {verdict(c['growth'] < TARGET_RSS_MIB)} |",
        f"| (c) RSS growth | {c['growth']:.1f} MiB | | |",
        "| (c) `conductor_timers_pending` | "
        + (
            f"{c['gauge']:,.0f} after {c['gauge_after_s']:.0f} s"
            if c["gauge_after_s"] is not None
            else f"{c['gauge']} (not ≥ {c['pending']:,} within 20 s)"
        )
        + " | | |",
        "",
        f"Server-side `conductor_timer_lateness_seconds` (claim - due), cumulative: "
        f"(a) {fmt_hist(a['hist'])}; (b) {fmt_hist(b['hist'])}.",
    ]
    if len(b["due_values"]) != 1:
        lines.append(f"\nNote: (b) waitTimeout values differ: {b['due_values'][:5]}")
    return "\n".join(lines) + "\n"


async def benchmark(args: argparse.Namespace, work_dir: Path) -> str:
    async with bench_database(args.database_url, work_dir) as (dsn, machine):
        # The machine's own speed in this run: single-row commits/s over one connection.
        raw_1, _ = await raw_commit_rate(dsn, 1, args.baseline_seconds)
        log.info("raw commits/s (1 connection): %.0f", raw_1)
        log_path = work_dir / "server.log"
        try:
            async with running_server(dsn, log_path) as server:
                connector = aiohttp.TCPConnector(limit=args.start_concurrency + 8)
                async with aiohttp.ClientSession(connector=connector) as session:
                    a = await phase_a(args, session, server)
                    b = await phase_b(args, session, server, a["starts_per_s"])
                    c = await phase_c(args, session, server)
        finally:
            log_problems(log_path)
    return markdown(command_line("bench.timers"), machine, raw_1, a, b, c)


def log_problems(log_path: Path) -> None:
    """Count the server log's lines and show its first warnings and errors."""
    with contextlib.suppress(OSError):
        text = log_path.read_text(errors="replace").splitlines()
        odd = [ln for ln in text if "WARNING" in ln or "ERROR" in ln or "Trace" in ln]
        log.info("server log: %d lines, %d warnings/errors", len(text), len(odd))
        for line in odd[:20]:
            log.info("  %s", line[:300])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(__doc__, markdown_out=True, verbose=True)
    p.add_argument("--workflows", type=int, default=10_000, help="workflows in (a) and (b)")
    p.add_argument("--pending", type=int, default=1_000_000, help="timers inserted in (c)")
    p.add_argument("--start-concurrency", type=int, default=64, help="starts in flight")
    p.add_argument("--timeout", type=float, default=300.0, help="per phase, seconds")
    p.add_argument(
        "--baseline-seconds", type=float, default=3.0, help="raw commit-rate measurement"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    block = run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose)
    write_out(block, args.markdown_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
