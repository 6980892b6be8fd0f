"""Search latency on a large store: /api/workflow/search over N stored workflows.

    python -m bench.search [--workflows 1000000] [--repeat 30] [--database-url URL]

One run, one fresh database (``bench_<random>``, dropped at the end), one server process
(``python -m conductor server``), which migrates the schema. N workflow rows are then generated
inside PostgreSQL (``INSERT … SELECT … FROM generate_series``, batches of 100,000): five
workflow names, statuses spread like a real store (90 % COMPLETED, 6 % RUNNING, 2 % FAILED,
2 % TERMINATED), one correlation id each, start times one every 30 s (N = 10^6 spans about a
year), and an input and output document. Then VACUUM ANALYZE, and each query below is sent
``--repeat`` times over HTTP (after one warm-up); p50 and p99 of the request latency are
reported, each also as a ratio to the p50 of ``GET /api/workflow/{id}`` measured in the same run
(a primary-key lookup through the same server: the machine's noise cancels out).

Markdown on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.generated_store import WORKFLOW_INSERT, add_definition
from bench.machine import Machine
from bench.report import command_line, percentile
from bench.scaffold import bench_database, parser, run_in_scratch, running_server

log = logging.getLogger("bench")

T0 = 1_700_000_000_000  # first start time (epoch ms)
STEP_MS = 30_000
BATCH = 100_000

# Generated rows: run i (1-based) is named from its remainder, its status from i % 100.
_GENERATE = (
    WORKFLOW_INSERT
    + """SELECT 'wf-' || g,
       (ARRAY['billing', 'refunds', 'onboarding', 'reports', 'sync'])[1 + g % 5],
       1,
       CASE WHEN g % 100 < 6 THEN 'RUNNING' WHEN g % 100 < 8 THEN 'FAILED'
            WHEN g % 100 < 10 THEN 'TERMINATED' ELSE 'COMPLETED' END,
       'corr-' || g,
       0,
       NULL,
       $3 + g * $4,
       $3 + g * $4 + 5000,
       CASE WHEN g % 100 < 6 THEN 0 ELSE $3 + g * $4 + 5000 END,
       1,
       $5,
       jsonb_build_object(
           'input', jsonb_build_object('customer', 'customer-' || g, 'amount', g % 997),
           'output', jsonb_build_object('invoice', 'inv-' || g),
           'variables', '{}'::jsonb, 'taskToDomain', '{}'::jsonb)
FROM generate_series($1::bigint, $2::bigint) AS g
"""
)


def queries(n: int) -> list[tuple[str, dict[str, str]]]:
    """(label, query parameters) of each measured search."""
    middle = T0 + (n // 2) * STEP_MS
    day = 24 * 3600 * 1000
    return [
        ("workflowType = billing (newest 100)", {"query": "workflowType = billing"}),
        ("status = FAILED (newest 100)", {"query": "status = FAILED"}),
        ("correlationId = one run", {"query": f"correlationId = corr-{n // 3}"}),
        (
            "startTime in one day",
            {"query": f"startTime >= {middle} AND startTime < {middle + day}"},
        ),
        (
            "workflowType AND status AND one week",
            {
                "query": f"workflowType = reports AND status = RUNNING AND "
                f"startTime >= {middle} AND startTime < {middle + 7 * day}"
            },
        ),
        (
            "status = RUNNING, oldest first, page 50 (start=5000)",
            {"query": "status = RUNNING", "sort": "startTime:ASC", "start": "5000"},
        ),
        (
            "freeText in one day (input/output substring)",
            {
                "query": f"startTime >= {middle} AND startTime < {middle + day}",
                "freeText": f"customer-{n // 2 + 7}",
            },
        ),
        ("freeText alone (full scan)", {"freeText": f"customer-{n // 2 + 11}"}),
    ]


async def populate(dsn: str, n: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        definition_id = "bench-definition"
        await add_definition(conn, definition_id, '{"name": "billing", "version": 1, "tasks": []}')
        started = time.perf_counter()
        for first in range(1, n + 1, BATCH):
            last = min(first + BATCH - 1, n)
            await conn.execute(_GENERATE, first, last, T0, STEP_MS, definition_id)
            log.info("inserted %d / %d", last, n)
        # As autovacuum leaves a settled table: visibility map set, so counts can use the index.
        await conn.execute("VACUUM ANALYZE workflow")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def timed_get(session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.get(url, params=params) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url} {params}: {resp.status} {await resp.text()}")
    return (time.perf_counter() - started) * 1000


async def measure(
    session: aiohttp.ClientSession, url: str, params: dict[str, str], repeat: int
) -> tuple[list[float], dict[str, Any]]:
    async with session.get(url, params=params) as resp:  # warm-up, and the hit count
        body = await resp.json()
    return [await timed_get(session, url, params) for _ in range(repeat)], body


async def benchmark(args: argparse.Namespace, work_dir: Path) -> str:
    async with (
        bench_database(args.database_url, work_dir) as (dsn, machine),
        running_server(dsn, work_dir / "server.log") as server,
        aiohttp.ClientSession() as session,
    ):
        log.info("generating %d workflows", args.workflows)
        insert_s = await populate(dsn, args.workflows)
        api = server.api
        get_url = f"{api}/workflow/wf-{args.workflows // 2}"
        get_ms, _ = await measure(session, get_url, {"includeTasks": "false"}, args.repeat)
        baseline = percentile(get_ms, 0.5)
        results = []
        for label, params in queries(args.workflows):
            timings, body = await measure(session, f"{api}/workflow/search", params, args.repeat)
            results.append((label, params, timings, body["totalHits"]))
            log.info("%s: p50 %.1f ms", label, percentile(timings, 0.5))
    return markdown(args, machine, insert_s, get_ms, baseline, results)


def markdown(
    args: argparse.Namespace,
    machine: Machine,
    insert_s: float,
    get_ms: list[float],
    baseline: float,
    results: list[tuple[str, dict[str, str], list[float], int]],
) -> str:
    command = command_line("bench.search")
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {machine.summary()} ({machine.postgres_kind})",
        "",
        f"{args.workflows:,} workflows generated and analysed in {insert_s:.1f} s; "
        f"each figure over {args.repeat} requests after one warm-up.",
        "",
        "| search | hits | p50 ms | p99 ms | p50 ÷ GET p50 |",
        "|---|---|---|---|---|",
        f"| `GET /api/workflow/{{id}}` (baseline) | 1 | {baseline:.1f} | "
        f"{percentile(get_ms, 0.99):.1f} | 1.0 |",
    ]
    for label, _params, timings, hits in results:
        p50 = percentile(timings, 0.5)
        lines.append(
            f"| {label} | {hits:,} | {p50:.1f} | {percentile(timings, 0.99):.1f} "
            f"| {p50 / baseline:.1f} |"
        )
    lines.append("")
    lines.append("Queries:")
    for label, params, _timings, _hits in results:
        lines.append(f"- {label}: `{params}`")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(__doc__, verbose=True)
    p.add_argument("--workflows", type=int, default=1_000_000, help="stored workflows")
    p.add_argument("--repeat", type=int, default=30, help="requests per query")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
