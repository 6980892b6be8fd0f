"""Soak: half the M1 rate for half an hour, retention on (issue 14, Done-when item 3).

    python -m bench.soak [--database-url URL] [--minutes 30] [--rate TASKS_PER_S]
                         [--retention-minutes 1] [--markdown-out FILE] [--json] [-v]

One run, one fresh database (``bench_<random>``, dropped at the end), one server process on it
with retention on (``CONDUCTOR_RETENTION_DAYS`` = ``--retention-minutes`` as a fraction of a
day), so finished runs are removed while the soak goes on. The raw limit R (autocommit 1-row
INSERTs over 8 connections) is measured before and after, as in bench.mixed_load.

1. The rate: half the tasks/s of M1 of bench.mixed_load (runs of three SIMPLE steps, 64 starts
   in flight, workers with batch polls and update-v2, 32 slots), measured first on the same
   server; or ``--rate`` tasks/s as given (M1 is then skipped).
2. The soak, for ``--minutes``: runs of three SIMPLE steps started at a steady pace (open loop:
   each start is sent at its due time, whether or not earlier ones have finished; at most 64 in
   flight, beyond that the lag is reported) worth that rate in tasks/s, while the same workers
   run throughout.
3. Every window (``--window-seconds``, a minute), a sample: tasks the server was told were
   COMPLETED per second, starts/s, dispatch p50/p99 (scheduled -> at the worker), RUNNING
   runs, runs stored (any status), runs removed by retention, the server's RSS (VmRSS), CPU ms
   per task of the server and PostgreSQL, and every table's total size (with TOAST and
   indexes), index size, live and dead rows and vacuums so far.

Report: the windows, and the goals with their verdicts (bench.soak_report says how each is
computed): throughput drift at most 10 %, server RSS growth at most 20 MiB, table and index
sizes bounded; the exit status is 1 when one is not met. Markdown on stdout (or JSON with
``--json``); nothing is written into the repository unless ``--markdown-out`` names a file there.
Retention runs at the server's defaults; ``CONDUCTOR_RETENTION_*`` variables set around the
command reach the server (``CONDUCTOR_RETENTION_BATCH``, say).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import mixed_scenarios as m
from bench.cpu import CpuMeter, postmaster_pid
from bench.mixed_workload import Received, Recorder, dispatch_ms, simple, workflow
from bench.postgres import drop_scratch_table, raw_commit_rate
from bench.report import command_line, percentile, write_out
from bench.scaffold import bench_database, parser, run_in_scratch, running_server
from bench.server_api import scrape
from bench.soak_report import markdown, summarise

log = logging.getLogger("bench")

RAW_CONNECTIONS = 8
M1_IN_FLIGHT = 64
WORKER_SLOTS = 32
MAX_IN_FLIGHT = 64  # starts outstanding at once; beyond this the pacer falls behind
NAME = "soak_three_steps"
TYPES = ["soak_step_1", "soak_step_2", "soak_step_3"]
MIB = 1024 * 1024
DAY_MINUTES = 24 * 60

# Counters read from /metrics: (name, label pairs a sample must carry); matching samples add up.
_COUNTERS = {
    "tasks": ("conductor_task_updates_total", ['status="COMPLETED"']),
    "finished": (
        "conductor_workflows_finished_total",
        ['status="COMPLETED"', f'workflow_type="{NAME}"'],
    ),
    "purged": ("conductor_workflows_purged_total", []),
}
_SIZES = """
SELECT c.relname AS name, pg_total_relation_size(c.oid) AS total,
       pg_indexes_size(c.oid) AS indexes, coalesce(s.n_live_tup, 0) AS live,
       coalesce(s.n_dead_tup, 0) AS dead,
       coalesce(s.autovacuum_count + s.vacuum_count, 0) AS vacuums
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
ORDER BY c.relname
"""
_RUNS = (
    "SELECT count(*) FILTER (WHERE status = 'RUNNING') AS running, count(*) AS stored FROM workflow"
)


@dataclass
class Arrivals:
    """What the pacer did since the last window was taken."""

    started: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lag_max_s: float = 0.0  # the longest a start was sent after its due time
    started_in_all: int = 0  # never reset: what the final accounting must find finished

    def take(self) -> Arrivals:
        taken = Arrivals(self.started, self.errors, self.latencies_ms, self.lag_max_s)
        self.started, self.errors, self.latencies_ms, self.lag_max_s = 0, 0, [], 0.0
        return taken


async def paced_starts(ctx: m.Context, per_s: float, until: float, arrivals: Arrivals) -> None:
    """Start runs of NAME `per_s` a second until `until` (loop time), each at its due time."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    pending: set[asyncio.Task[None]] = set()

    async def start(index: int) -> None:
        began = time.perf_counter()
        try:
            async with ctx.session.post(
                f"{ctx.api}/workflow/{NAME}", json={"value": index}
            ) as resp:
                body = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"{resp.status} {body[:200]}")
        except (aiohttp.ClientError, RuntimeError) as exc:
            # One failed start must not end a half-hour run: counted, the first few logged.
            arrivals.errors += 1
            if arrivals.errors <= 3:
                log.warning("start failed: %s", exc)
        else:
            arrivals.started += 1
            arrivals.started_in_all += 1
            arrivals.latencies_ms.append(1000 * (time.perf_counter() - began))
        finally:
            slots.release()

    due, index = loop.time(), 0
    while due < until:
        await asyncio.sleep(max(0.0, due - loop.time()))
        await slots.acquire()
        arrivals.lag_max_s = max(arrivals.lag_max_s, loop.time() - due)
        task = asyncio.create_task(start(index))
        pending.add(task)
        task.add_done_callback(pending.discard)
        due, index = due + 1 / per_s, index + 1
    await asyncio.gather(*pending)


@dataclass
class Sampler:
    """Takes one window's sample: the server's counters and RSS, the database's sizes."""

    ctx: m.Context
    server_url: str
    conn: asyncpg.Connection
    recorders: list[Recorder]
    arrivals: Arrivals
    counters: dict[str, float] = field(default_factory=dict)
    meter: CpuMeter | None = None
    at: float = 0.0

    async def baseline(self) -> dict[str, Any]:
        """The state before the soak (window 0); starts the first window's clocks."""
        self.counters = await self._counters()
        self._take_received()
        self.arrivals.take()
        self.meter = CpuMeter(self.ctx.postmaster, self.ctx.server_pid)
        self.meter.start()
        self.at = time.perf_counter()
        return {"window": 0, **await self._state()}

    async def window(self, index: int, began: float) -> dict[str, Any]:
        assert self.meter is not None
        cpu = self.meter.stop()
        self.meter.start()
        now = time.perf_counter()
        seconds, self.at = now - self.at, now
        counters = await self._counters()
        delta = {k: counters.get(k, 0.0) - self.counters.get(k, 0.0) for k in counters}
        self.counters = counters
        received = self._take_received()
        arrivals = self.arrivals.take()
        tasks = delta["tasks"]
        dispatch = dispatch_ms(received)
        sample: dict[str, Any] = {
            "window": index,
            "end_min": round((now - began) / 60, 2),
            "seconds": round(seconds, 2),
            "tasks_per_s": round(tasks / seconds, 1),
            "starts_per_s": round(arrivals.started / seconds, 1),
            "start_errors": arrivals.errors,
            "start_lag_max_s": round(arrivals.lag_max_s, 3),
            "start_ms_p99": round(percentile(arrivals.latencies_ms, 0.99), 1),
            "workflows_completed_per_s": round(delta["finished"] / seconds, 1),
            "purged_per_s": round(delta["purged"] / seconds, 1),
            "dispatch_ms_p50": round(percentile(dispatch, 0.50), 1),
            "dispatch_ms_p99": round(percentile(dispatch, 0.99), 1),
            "cpu_ms_per_task_server": round(1000 * cpu["server_cpu"] / max(tasks, 1), 3),
            "cpu_ms_per_task_postgres": round(1000 * cpu["postgres_cpu"] / max(tasks, 1), 3),
        }
        sample.update(await self._state())
        log.info(
            "window %d: %.1f tasks/s, RSS %.1f MiB, RUNNING %d, runs stored %d, tables %.1f MiB",
            index,
            sample["tasks_per_s"],
            sample["rss_mib"],
            sample["running"],
            sample["runs_stored"],
            sum(t["total"] for t in sample["tables"].values()) / MIB,
        )
        return sample

    async def finished_by_status(self) -> dict[str, int]:
        """Runs of NAME finished, by final status (from /metrics). Only the soak starts NAME,
        on a fresh server, so the counters hold nothing from before it."""
        samples = await scrape(self.ctx.session, self.server_url)
        counts: dict[str, int] = {}
        for key, value in samples.items():
            name, _, labels = key.partition("{")
            if name == "conductor_workflows_finished_total" and f'workflow_type="{NAME}"' in labels:
                status = labels.split('status="', 1)[1].split('"', 1)[0]
                counts[status] = counts.get(status, 0) + int(value)
        return counts

    async def _counters(self) -> dict[str, float]:
        samples = await scrape(self.ctx.session, self.server_url)
        found = dict.fromkeys(_COUNTERS, 0.0)
        for key, value in samples.items():
            name, _, labels = key.partition("{")
            for counter, (wanted, pairs) in _COUNTERS.items():
                if name == wanted and all(pair in labels for pair in pairs):
                    found[counter] += value
        return found

    def _take_received(self) -> list[Received]:
        taken = [r for recorder in self.recorders for r in recorder.received]
        for recorder in self.recorders:
            recorder.received.clear()  # a half-hour's tasks would otherwise pile up here
        return taken

    async def _state(self) -> dict[str, Any]:
        """RSS of the server, RUNNING runs and every table's sizes, now."""
        rss_kib, hwm_kib = _memory_kib(self.ctx.server_pid)
        rows = await self.conn.fetch(_SIZES)
        runs = await self.conn.fetchrow(_RUNS)
        assert runs is not None
        return {
            "rss_mib": round(rss_kib / 1024, 1),
            "rss_peak_mib": round(hwm_kib / 1024, 1),
            "running": int(runs["running"]),
            "runs_stored": int(runs["stored"]),
            "tables": {
                row["name"]: {
                    k: int(row[k]) for k in ("total", "indexes", "live", "dead", "vacuums")
                }
                for row in rows
            },
        }


def _memory_kib(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found["VmRSS"], found["VmHWM"]


async def soak(
    args: argparse.Namespace, ctx: m.Context, server_url: str, tasks_per_s: float
) -> dict[str, Any]:
    """The paced starts, with workers running, sampled every window."""
    await m.register(ctx, TYPES, workflow(NAME, [simple(t, f"s{i}") for i, t in enumerate(TYPES)]))
    share = max(1, WORKER_SLOTS // len(TYPES))
    recorders = [Recorder(t, share) for t in TYPES]
    windows = int(args.minutes * 60 / args.window_seconds)
    arrivals = Arrivals()
    conn = await asyncpg.connect(ctx.dsn)
    sampler = Sampler(ctx, server_url, conn, recorders, arrivals)
    samples: list[dict[str, Any]] = []

    async def body() -> None:
        samples.append(await sampler.baseline())
        loop = asyncio.get_running_loop()
        began, began_wall = loop.time(), time.perf_counter()
        until = began + windows * args.window_seconds
        starting = asyncio.create_task(paced_starts(ctx, tasks_per_s / 3, until, arrivals))
        try:
            for index in range(1, windows + 1):
                await asyncio.sleep(max(0.0, began + index * args.window_seconds - loop.time()))
                samples.append(await sampler.window(index, began_wall))
        except BaseException:
            # A failed sample ends the run now, not when the paced starts would have ended.
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            raise
        await starting
        accounting.update(await drain(sampler, arrivals, args.drain_seconds))

    accounting: dict[str, Any] = {}
    try:
        await m.with_workers(ctx, recorders, body)
    finally:
        await conn.close()
    return {
        "workflows_per_s": round(tasks_per_s / 3, 2),
        "accounting": accounting,
        "samples": samples,
    }


async def drain(sampler: Sampler, arrivals: Arrivals, deadline_s: float) -> dict[str, Any]:
    """After the last start, wait (workers still running) until every run the soak started
    has finished, or the deadline passes; then account for them: a run started and never
    finished is lost or stuck, whatever retention has removed since."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while True:
        ended = await sampler.finished_by_status()
        if sum(ended.values()) >= arrivals.started_in_all or loop.time() - began > deadline_s:
            break
        await asyncio.sleep(0.5)
    runs = await sampler.conn.fetchrow(_RUNS)
    assert runs is not None
    completed = ended.get("COMPLETED", 0)
    return {
        "started": arrivals.started_in_all,
        "completed": completed,
        "ended_otherwise": {k: v for k, v in ended.items() if k != "COMPLETED"},
        "unfinished": arrivals.started_in_all - sum(ended.values()),
        "running_at_end": int(runs["running"]),
        "drain_s": round(loop.time() - began, 1),
    }


async def benchmark(args: argparse.Namespace, work_dir: Path) -> dict[str, Any]:
    url = args.database_url or os.environ.get("CONDUCTOR_DATABASE_URL") or None
    retention_days = args.retention_minutes / DAY_MINUTES
    env = {"CONDUCTOR_RETENTION_DAYS": repr(retention_days)}
    async with bench_database(url, work_dir) as (dsn, machine):
        raw_before, _ = await raw_commit_rate(dsn, RAW_CONNECTIONS, args.baseline_seconds)
        await drop_scratch_table(dsn)
        log.info("raw limit before: %.0f commits/s", raw_before)
        async with (
            running_server(dsn, work_dir / "server.log", args.port, env) as server,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session,
        ):
            ctx = m.Context(
                server.api, dsn, session, await postmaster_pid(dsn), server.pid or 0, False, 600.0
            )
            m1: dict[str, Any] | None = None
            if args.rate:
                rate = args.rate
            else:
                log.info("M1, %d runs ...", args.m1_workflows)
                m1 = await m.m1_starts_while_workers_run(
                    ctx, args.m1_workflows, M1_IN_FLIGHT, WORKER_SLOTS // len(TYPES)
                )
                log.info("M1: %s", m1)
                rate = m1["tasks_per_s"] / 2
            log.info("soak at %.1f tasks/s for %g min ...", rate, args.minutes)
            soaked = await soak(args, ctx, server.url, rate)
            autovacuum = await _setting(dsn, "autovacuum")
        raw_after, _ = await raw_commit_rate(dsn, RAW_CONNECTIONS, args.baseline_seconds)
        await drop_scratch_table(dsn)
        log.info("raw limit after: %.0f commits/s", raw_after)
    r = (raw_before + raw_after) / 2
    samples = soaked.pop("samples")
    return {
        "command": command_line("bench.soak"),
        "machine": machine,
        "raw_before": round(raw_before),
        "raw_after": round(raw_after),
        "m1": m1,
        "m1_tasks_per_r": round(m1["tasks_per_s"] / r, 3) if m1 else None,
        "rate_tasks_per_s": round(rate, 1),
        "rate_per_r": round(rate / r, 4),
        "retention_days": retention_days,
        "autovacuum": autovacuum,
        "window_seconds": args.window_seconds,
        **soaked,
        "summary": summarise(samples, autovacuum == "on", soaked["accounting"]),
        "windows": samples,
    }


async def _setting(dsn: str, name: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval(f"SHOW {name}"))
    finally:
        await conn.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(
        __doc__,
        "PostgreSQL admin URL; default $CONDUCTOR_DATABASE_URL, else an embedded server",
        markdown_out=True,
        verbose=True,
    )
    p.add_argument("--minutes", type=float, default=30.0, help="length of the soak")
    p.add_argument("--rate", type=float, help="tasks/s to soak at (default: half of M1's)")
    p.add_argument("--m1-workflows", type=int, default=2000, help="runs of the M1 measurement")
    p.add_argument(
        "--retention-minutes", type=float, default=1.0, help="age at which retention removes"
    )
    p.add_argument("--window-seconds", type=float, default=60.0, help="one sample per window")
    p.add_argument(
        "--drain-seconds", type=float, default=180.0, help="wait for the last runs to finish"
    )
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="per raw-limit probe")
    p.add_argument("--port", type=int, help="server port (default: a free one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = p.parse_args(argv)
    if args.minutes * 60 / args.window_seconds < 3:
        p.error("a soak needs at least 3 windows (the first is a warm-up)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose)
    printed = json.dumps(report, indent=2, default=str) if args.json else None
    write_out(markdown(report), args.markdown_out, printed)
    return 0 if report["summary"]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
