"""End-to-end throughput of the server against the raw commit rate of the same PostgreSQL.

    python -m bench.throughput --workflows 1000 [--database-url URL] [--concurrency 32]
                               [--json] [--markdown-out FILE] [--profile-server FILE.txt]

One run, one fresh database (``bench_<random>``, dropped at the end):

1. Baseline: autocommit single-row INSERTs into a scratch table with asyncpg, for
   ``--baseline-seconds`` with 1 connection and then with ``--concurrency`` connections.
2. The server (``python -m conductor server``) runs as a child process on that database.
   A task def per step and a workflow of three SIMPLE tasks in sequence are registered,
   N workflows are started over HTTP (``--start-concurrency`` requests in flight; timed on
   their own), and then the ``workers`` library (batch poll + update-v2, ``--concurrency``
   slots split over the three task types) runs them in this process. The clock runs from
   the first poll until the last step's result of the N-th workflow has been accepted;
   afterwards every workflow's status is checked through the API.
3. Reported: workflows/s, task completions/s (3N / time), both raw commit rates, their
   ratios, the server's own metrics for the timed phase (latencies, retries), and machine
   facts; plus the CPU cost per operation of each phase (PostgreSQL, client, server, from
   /proc/<pid>/task/*/schedstat), the time the server was runnable but had no CPU, and how
   much CPU other processes on the machine took. Markdown on stdout (JSON with ``--json``).

Diagnostics for the timed phase, all optional: ``--profile-server FILE`` (py-spy raw stacks;
summarise with ``python -m bench.pyspy_top``), ``--attach 'strace -c -o F -p {pid}'`` (any
tool, stopped with SIGINT), ``--db-stats`` (commits, rows and WAL bytes per task completion)
and ``--pg-stat-statements`` (statement mix; needs the extension preloaded on the server).

Nothing is written into the repository unless ``--markdown-out`` names a file there.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

import aiohttp

from bench import auth
from bench.attach import Attached
from bench.cpu import CpuMeter, other_load, postmaster_pid
from bench.machine import Machine
from bench.postgres import (
    db_stats,
    drop_scratch_table,
    per_task,
    raw_commit_rate,
    statement_stats,
)
from bench.report import command_line, write_out
from bench.scaffold import bench_database, parser, run_in_scratch, running_server
from bench.server_api import scrape, start_workflows
from bench.throughput_report import Result, markdown, server_figures
from bench.throughput_workload import (
    TASK_TYPES,
    WORKFLOW_NAME,
    definitions,
    run_workers,
    statuses,
)
from conductor.testing.server_process import ServerProcess
from workers import ConductorClient

log = logging.getLogger("bench")


async def benchmark(args: argparse.Namespace, work_dir: Path) -> Result:
    url = args.database_url or os.environ.get("CONDUCTOR_DATABASE_URL") or None
    async with bench_database(url, work_dir) as (dsn, machine):
        c = args.concurrency
        log.info("baseline: 1 connection for %.0fs", args.baseline_seconds)
        raw_1, cpu_1 = await raw_commit_rate(dsn, 1, args.baseline_seconds)
        log.info("baseline: %d connections for %.0fs", c, args.baseline_seconds)
        raw_c, cpu_c = await raw_commit_rate(dsn, c, args.baseline_seconds)
        await drop_scratch_table(dsn)
        log.info("raw commits/s: %.0f (1 conn), %.0f (%d conns)", raw_1, raw_c, c)

        env = {} if args.pool is None else {"CONDUCTOR_DB_POOL_SIZE": str(args.pool)}
        async with running_server(dsn, work_dir / "server.log", args.port, env) as server:
            result = await _drive(args, server, machine, raw_1, raw_c)
        result.baseline_cpu = {"1": cpu_1, str(c): cpu_c}
        return result


async def _drive(
    args: argparse.Namespace, server: ServerProcess, machine: Machine, raw_1: float, raw_c: float
) -> Result:
    api = server.api
    dsn = server.database_url
    n = args.workflows
    connector = aiohttp.TCPConnector(limit=max(args.start_concurrency, args.concurrency) + 8)
    headers = {"X-Authorization": await auth.enable(dsn, api)} if args.auth else None
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        task_defs, workflow = definitions()
        admin = ConductorClient(api)
        await admin.register_task_defs(task_defs)
        await admin.register_workflow_def(workflow)
        await admin.close()

        log.info("starting %d workflows (%d in flight)", n, args.start_concurrency)
        ids, start_seconds = await start_workflows(
            session, api, WORKFLOW_NAME, n, args.start_concurrency, lambda i: {"value": i}
        )
        log.info("started in %.2fs (%.0f/s)", start_seconds, n / start_seconds)

        pid = server.pid
        assert pid is not None
        meter = CpuMeter(await postmaster_pid(dsn), pid)
        attached = [Attached.template(text, pid) for text in args.attach]
        if args.profile_server:
            attached.append(Attached.py_spy(pid, args.profile_server, args.profile_rate))
        db_before = await db_stats(dsn, args.db_stats)
        if args.pg_stat_statements:
            await statement_stats(dsn, reset=True)
        metrics_before = await scrape(session, server.url)
        try:
            first, last, cpu = await run_workers(
                api, n, args.concurrency, args.poll_timeout_ms, args.timeout, meter
            )
        finally:
            for tool in attached:
                tool.stop()
        db_after = await db_stats(dsn, args.db_stats)
        statements = await statement_stats(dsn, reset=False) if args.pg_stat_statements else []
        figures = server_figures(metrics_before, await scrape(session, server.url))
        run_seconds = last - first
        log.info("ran %d workflows in %.2fs; verifying", n, run_seconds)
        found = await statuses(session, api, ids, args.start_concurrency)

    tasks = n * len(TASK_TYPES)
    completions = tasks / run_seconds
    result = Result(
        workflows=n,
        tasks=tasks,
        worker_concurrency=args.concurrency,
        start_concurrency=args.start_concurrency,
        baseline_seconds=args.baseline_seconds,
        server_pool_size=args.pool,
        start_seconds=round(start_seconds, 3),
        starts_per_s=round(n / start_seconds, 1),
        run_seconds=round(run_seconds, 3),
        workflows_per_s=round(n / run_seconds, 1),
        task_completions_per_s=round(completions, 1),
        raw_commits_per_s_1=round(raw_1, 1),
        raw_commits_per_s_c=round(raw_c, 1),
        ratio_vs_1=round(completions / raw_1, 3),
        ratio_vs_c=round(completions / raw_c, 3),
        cpu_seconds=cpu,
        server_metrics=figures,
        db_per_task=per_task(db_before, db_after, tasks) if args.db_stats else {},
        statuses=found,
        statements=statements,
        machine=machine,
        command=command_line("bench.throughput"),
    )
    if found.get("COMPLETED", 0) != n:
        result.notes.append(f"NOT ALL COMPLETED: {found}")
    others = other_load(cpu, machine.nproc)
    if others > 0.25:
        result.warnings.append(
            f"other processes used {others:.2f} of {machine.nproc} cores during the timed "
            "phase; the figures are lower than on a quiet machine"
        )
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(
        __doc__,
        "PostgreSQL admin URL; default $CONDUCTOR_DATABASE_URL, else an embedded server",
        markdown_out=True,
        verbose=True,
    )
    p.add_argument("--workflows", type=int, default=1000, help="workflows to run (default 1000)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="worker slots over all three task types, and baseline connections (default 32)",
    )
    p.add_argument("--start-concurrency", type=int, default=32, help="starts in flight")
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="per baseline variant")
    p.add_argument("--poll-timeout-ms", type=int, default=1000, help="worker long-poll timeout")
    p.add_argument("--pool", type=int, help="server DB pool size (CONDUCTOR_DB_POOL_SIZE)")
    p.add_argument("--port", type=int, help="server port (default: a free one)")
    p.add_argument("--timeout", type=float, default=600.0, help="give up after this many s")
    p.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    p.add_argument(
        "--auth",
        action="store_true",
        help="with an API key: every request carries a token (X-Authorization)",
    )
    p.add_argument(
        "--profile-server",
        type=Path,
        help="run `py-spy record --format raw` on the server for the timed phase into this file",
    )
    p.add_argument("--profile-rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="COMMAND",
        help="run COMMAND ({pid} = server pid) during the timed phase, then SIGINT it;\n"
        "e.g. 'strace -c -f -o /tmp/strace.txt -p {pid}'",
    )
    p.add_argument(
        "--pg-stat-statements",
        action="store_true",
        help="report the statement mix of the timed phase (the PostgreSQL server must\n"
        "preload pg_stat_statements)",
    )
    p.add_argument(
        "--db-stats",
        action="store_true",
        help="report commits, rows and WAL bytes per task completion (adds 2 x 11 s waits\n"
        "so that PostgreSQL's lazily flushed statistics are complete)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose)
    block = markdown(result)
    write_out(block, args.markdown_out, json.dumps(asdict(result), indent=2) if args.json else None)
    return 0 if not result.notes else 1


if __name__ == "__main__":
    sys.exit(main())
