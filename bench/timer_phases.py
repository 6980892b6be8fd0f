"""The three phases of the timers bench: WAIT lateness, a burst due at one instant, memory.

Each phase runs against one server process and reads its figures from the database (the WAIT
tasks' end and due times), the server's /metrics and /proc (its RSS). `bench.timers` has the
details of what each phase does and turns their figures into the report.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.report import percentile
from bench.server_api import scrape, start_workflows
from conductor.testing.server_process import ServerProcess

log = logging.getLogger("bench")

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


async def start_waits(
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    server: ServerProcess,
    workflow: dict[str, Any],
) -> tuple[dict[str, float], float]:
    """Register a WAIT workflow and start it `--workflows` times; (metrics before, seconds)."""
    await register(session, server.api, workflow)
    before = await scrape(session, server.url)
    _, seconds = await start_workflows(
        session,
        server.api,
        workflow["name"],
        args.workflows,
        args.start_concurrency,
        lambda i: {"i": i},
    )
    return before, seconds


async def finished_waits(
    session: aiohttp.ClientSession,
    server: ServerProcess,
    ref: str,
    count: int,
    deadline_s: float,
    before: dict[str, float],
) -> tuple[int, list[tuple[int, int]], dict[str, float]]:
    """Once the WAIT tasks `ref` completed: (how many, their (end, due) ms, server histogram)."""
    done = await wait_completed(server.database_url, ref, count, deadline_s)
    rows = await wait_rows(server.database_url, ref)
    return done, rows, lateness_histogram(before, await scrape(session, server.url))


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


async def phase_a(
    args: argparse.Namespace, session: aiohttp.ClientSession, server: ServerProcess
) -> dict[str, Any]:
    n = args.workflows
    log.info("(a) starting %d workflows with a 5 s WAIT", n)
    workflow = wait_workflow("bench_wait_5s", "wait_5s", {"duration": "5s"})
    metrics_before, seconds = await start_waits(args, session, server, workflow)
    log.info("(a) started in %.2fs (%.0f/s)", seconds, n / seconds)
    done, rows, hist = await finished_waits(
        session, server, "wait_5s", n, args.timeout, metrics_before
    )
    late = [float(end - due) for end, due in rows]
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
    server: ServerProcess,
    start_rate: float,
) -> dict[str, Any]:
    n = args.workflows
    # Enough time for all starts at the measured rate, with a margin; whole seconds.
    lead_s = n / start_rate * 1.5 + 5.0
    t_ms = (math.ceil(time.time() + lead_s)) * 1000
    until = datetime.fromtimestamp(t_ms / 1000, UTC).isoformat()
    log.info("(b) starting %d workflows waiting until %s (in %.1fs)", n, until, lead_s)
    workflow = wait_workflow("bench_wait_until", "wait_until", {"until": until})
    metrics_before, seconds = await start_waits(args, session, server, workflow)
    ahead = t_ms / 1000 - time.time()
    log.info("(b) started in %.2fs; T is %.1fs ahead", seconds, ahead)
    done, rows, hist = await finished_waits(
        session, server, "wait_until", n, args.timeout + max(ahead, 0), metrics_before
    )
    dues = {due for _, due in rows}
    late = [float(end - t_ms) for end, _ in rows]
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
    pid = server.pid
    assert pid is not None
    rss_before = rss_mib(pid)
    base = int(time.time() * 1000) + YEAR_MS
    records = [
        (f"WORKFLOW_TIMEOUT:bench-{i}", f"bench-{i}", None, "WORKFLOW_TIMEOUT", base + i, None)
        for i in range(m)
    ]
    conn = await asyncpg.connect(server.database_url)
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
        samples = await scrape(session, server.url)
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
