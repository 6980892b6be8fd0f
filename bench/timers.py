"""Durable timers: WAIT lateness, a burst of timers due at the same instant, and memory at scale.

    python bench/timers.py [--workflows 10000] [--pending 1000000] [--database-url URL]
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
import asyncio
import contextlib
import logging
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.throughput import (
    Machine,
    ServerProcess,
    free_port,
    fresh_database,
    machine_info,
    postgres_server,
    raw_commit_rate,
    run_in_scratch,
    scrape,
)

log = logging.getLogger("bench")

TARGET_P99_MS = 100.0
TARGET_DRAIN_S = 2.0
TARGET_RSS_MIB = 50.0
YEAR_MS = 365 * 24 * 3600 * 1000


def wait_workflow(name: str, ref: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "bench@example.com",
        "timeoutSeconds": 0,
        "tasks": [
            {"name": ref, "taskReferenceName": ref, "type": "WAIT", "inputParameters": inputs}
        ],
    }


async def register(session: aiohttp.ClientSession, api: str, workflow: dict[str, Any]) -> None:
    async with session.post(f"{api}/metadata/workflow", json=workflow) as resp:
        if resp.status >= 300:
            # Maybe it exists already: update instead.
            async with session.put(f"{api}/metadata/workflow", json=[workflow]) as put:
                if put.status >= 300:
                    raise RuntimeError(f"register failed: {resp.status} {await put.text()}")


async def start_many(
    session: aiohttp.ClientSession, api: str, name: str, count: int, concurrency: int
) -> float:
    """Start `count` workflows with `concurrency` requests in flight; seconds taken."""
    next_index = 0

    async def starter() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            async with session.post(f"{api}/workflow/{name}", json={"i": index}) as resp:
                body = await resp.text()
                if resp.status != 200:
                    raise RuntimeError(f"start failed: {resp.status} {body[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return time.perf_counter() - started


async def wait_completed(dsn: str, ref: str, count: int, deadline_s: float) -> int:
    """Poll the task table until `count` WAIT tasks `ref` are COMPLETED; the count reached."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + deadline_s
        done = 0
        while time.monotonic() < deadline:
            done = int(
                await conn.fetchval(
                    "SELECT count(*) FROM task WHERE ref_name = $1 AND status = 'COMPLETED'", ref
                )
            )
            if done >= count:
                break
            await asyncio.sleep(0.5)
        return done
    finally:
        await conn.close()


async def wait_rows(dsn: str, ref: str) -> list[tuple[int, int]]:
    """(end_time, due time) in ms of every COMPLETED WAIT task `ref`."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT end_time, (body->>'waitTimeout')::bigint AS due FROM task"
            " WHERE ref_name = $1 AND status = 'COMPLETED'",
            ref,
        )
    finally:
        await conn.close()
    return [(int(r["end_time"]), int(r["due"])) for r in rows]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lateness_histogram(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Cumulative bucket counts of conductor_timer_lateness_seconds over a phase."""
    prefix = "conductor_timer_lateness_seconds_bucket"
    return {
        key.split('le="', 1)[1].split('"', 1)[0]: after[key] - before.get(key, 0.0)
        for key in after
        if key.startswith(prefix)
    }


def fmt_hist(hist: dict[str, float]) -> str:
    total = hist.get("+Inf", 0.0)
    shown = []
    for le, count in hist.items():
        shown.append(f"≤{le}s: {int(count)}")
        if count >= total:
            break
    return ", ".join(shown)


async def phase_a(
    args: argparse.Namespace, session: aiohttp.ClientSession, api: str, server: ServerProcess
) -> dict[str, Any]:
    n = args.workflows
    await register(session, api, wait_workflow("bench_wait_5s", "wait_5s", {"duration": "5s"}))
    metrics_before = await scrape(session, server.base_url)
    log.info("(a) starting %d workflows with a 5 s WAIT", n)
    seconds = await start_many(session, api, "bench_wait_5s", n, args.start_concurrency)
    log.info("(a) started in %.2fs (%.0f/s)", seconds, n / seconds)
    done = await wait_completed(server.dsn, "wait_5s", n, args.timeout)
    rows = await wait_rows(server.dsn, "wait_5s")
    late = [float(end - due) for end, due in rows]
    hist = lateness_histogram(metrics_before, await scrape(session, server.base_url))
    return {
        "workflows": n,
        "completed": done,
        "start_seconds": seconds,
        "starts_per_s": n / seconds,
        "p50": percentile(late, 0.50),
        "p99": percentile(late, 0.99),
        "max": max(late, default=float("nan")),
        "min": min(late, default=float("nan")),
        "hist": hist,
    }


async def phase_b(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    api: str,
    server: ServerProcess,
    start_rate: float,
) -> dict[str, Any]:
    n = args.workflows
    # Enough time for all starts at the measured rate, with a margin; whole seconds.
    lead_s = n / start_rate * 1.5 + 5.0
    t_ms = (math.ceil(time.time() + lead_s)) * 1000
    until = datetime.fromtimestamp(t_ms / 1000, UTC).isoformat()
    await register(session, api, wait_workflow("bench_wait_until", "wait_until", {"until": until}))
    metrics_before = await scrape(session, server.base_url)
    log.info("(b) starting %d workflows waiting until %s (in %.1fs)", n, until, lead_s)
    seconds = await start_many(session, api, "bench_wait_until", n, args.start_concurrency)
    ahead = t_ms / 1000 - time.time()
    log.info("(b) started in %.2fs; T is %.1fs ahead", seconds, ahead)
    done = await wait_completed(server.dsn, "wait_until", n, args.timeout + max(ahead, 0))
    rows = await wait_rows(server.dsn, "wait_until")
    dues = {due for _, due in rows}
    late = [float(end - t_ms) for end, _ in rows]
    hist = lateness_histogram(metrics_before, await scrape(session, server.base_url))
    return {
        "workflows": n,
        "completed": done,
        "until": until,
        "start_seconds": seconds,
        "ahead_s": ahead,
        "due_values": sorted(dues),
        "drain_s": (max(late, default=float("nan"))) / 1000,
        "p50": percentile(late, 0.50),
        "p99": percentile(late, 0.99),
        "hist": hist,
    }


async def phase_c(
    args: argparse.Namespace, session: aiohttp.ClientSession, server: ServerProcess
) -> dict[str, Any]:
    m = args.pending
    pid = server.proc.pid
    rss_before = rss_mib(pid)
    base = int(time.time() * 1000) + YEAR_MS
    records = [
        (f"WORKFLOW_TIMEOUT:bench-{i}", f"bench-{i}", None, "WORKFLOW_TIMEOUT", base + i, None)
        for i in range(m)
    ]
    conn = await asyncpg.connect(server.dsn)
    try:
        log.info("(c) inserting %d timers (RSS %.1f MiB)", m, rss_before)
        started = time.perf_counter()
        batch = 100_000
        for offset in range(0, m, batch):
            await conn.copy_records_to_table(
                "timer",
                records=records[offset : offset + batch],
                columns=["timer_key", "workflow_id", "task_id", "kind", "fire_at", "payload"],
            )
        insert_s = time.perf_counter() - started
    finally:
        await conn.close()
    del records
    log.info("(c) inserted in %.2fs (%.0f rows/s)", insert_s, m / insert_s)
    gauge = None
    gauge_at = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 20.0:
        samples = await scrape(session, server.base_url)
        gauge = samples.get("conductor_timers_pending")
        if gauge is not None and gauge >= m:
            gauge_at = time.monotonic() - t0
            break
        await asyncio.sleep(1.0)
    remaining = 15.0 - (time.monotonic() - t0)
    if remaining > 0:
        await asyncio.sleep(remaining)
    rss_after = rss_mib(pid)
    rss_peak = rss_mib(pid, "VmHWM")
    return {
        "pending": m,
        "insert_s": insert_s,
        "rows_per_s": m / insert_s,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "rss_peak": rss_peak,
        "growth": rss_after - rss_before,
        "gauge": gauge,
        "gauge_after_s": gauge_at,
        "waited_s": time.monotonic() - t0,
    }


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
        f"Machine: {machine.nproc} CPUs ({machine.cpu_model}), Linux {machine.kernel}, "
        f"Python {machine.python}, {machine.postgres} ({machine.postgres_kind}, "
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
    async with (
        postgres_server(args.database_url, work_dir) as (admin_dsn, kind),
        fresh_database(admin_dsn) as dsn,
    ):
        machine = await machine_info(dsn, kind)
        # The machine's own speed in this run: single-row commits/s over one connection.
        raw_1, _ = await raw_commit_rate(dsn, 1, args.baseline_seconds)
        log.info("raw commits/s (1 connection): %.0f", raw_1)
        server = ServerProcess(dsn, free_port(), work_dir / "server.log", None)
        try:
            connector = aiohttp.TCPConnector(limit=args.start_concurrency + 8)
            async with aiohttp.ClientSession(connector=connector) as session:
                await server.wait_healthy(session)
                api = f"{server.base_url}/api"
                a = await phase_a(args, session, api, server)
                b = await phase_b(args, session, api, server, a["starts_per_s"])
                c = await phase_c(args, session, server)
        except BaseException:
            log.error("server log tail:\n%s", server.log_tail())
            raise
        finally:
            server.stop()
            with contextlib.suppress(OSError):
                text = server.log_path.read_text(errors="replace").splitlines()
                odd = [ln for ln in text if "WARNING" in ln or "ERROR" in ln or "Trace" in ln]
                log.info("server log: %d lines, %d warnings/errors", len(text), len(odd))
                for line in odd[:20]:
                    log.info("  %s", line[:300])
    command = " ".join(["python", "bench/timers.py", *sys.argv[1:]])
    return markdown(command, machine, raw_1, a, b, c)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", help="PostgreSQL admin URL; default an embedded server")
    p.add_argument("--workflows", type=int, default=10_000, help="workflows in (a) and (b)")
    p.add_argument("--pending", type=int, default=1_000_000, help="timers inserted in (c)")
    p.add_argument("--start-concurrency", type=int, default=64, help="starts in flight")
    p.add_argument("--timeout", type=float, default=300.0, help="per phase, seconds")
    p.add_argument(
        "--baseline-seconds", type=float, default=3.0, help="raw commit-rate measurement"
    )
    p.add_argument("--markdown-out", type=Path, help="append the markdown block to this file")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    block = run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose)
    print(block)
    if args.markdown_out:
        with args.markdown_out.open("a") as out:
            out.write("\n" + block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
