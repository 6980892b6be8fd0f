"""Does retention slow the hot path? Poll and update latency with and without it running.

    python -m bench.retention [--finished 100000] [--rounds 8] [--seconds 10] [--rate 100]
                              [--database-url URL]

One fresh database, N finished workflows (one task each, ended 60 days ago) generated inside
PostgreSQL and checkpointed. After a discarded warm-up phase come ``--rounds`` pairs of phases
in the order A B, B A, A B, ..., each on a fresh server process over the same database:

  A. retention off;
  B. retention on (``CONDUCTOR_RETENTION_DAYS=30``), so the server purges the backlog (its
     default batches and pacing) while the phase runs.

In each phase at least 3,000 workflows of one SIMPLE task (1.2 * rate * seconds) are started
first, so the queue never runs dry; then 4 workers poll (``GET /api/tasks/poll/{type}``) and
complete (``POST /api/tasks``) tasks at a fixed total pace (``--rate`` tasks/s) for
``--seconds``, and every request's latency is recorded. Reported per phase and pooled per mode:
p50 and p99 of each, the pooled p99 ratio B ÷ A (target: at most 1.2), the median of the
rounds' own ratios, a noise floor (the same ratio between two halves of the A phases), and how
fast retention removed workflows during B.

Markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

from bench.generated_store import WORKFLOW_INSERT, add_definition
from bench.machine import Machine
from bench.report import command_line, percentile
from bench.scaffold import bench_database, parser, run_in_scratch, running_server
from bench.server_api import scrape

log = logging.getLogger("bench")

DAY_MS = 24 * 3600 * 1000
BACKLOG = 3000
WORKERS = 4
TARGET_RATIO = 1.2

_GENERATE_WORKFLOWS = (
    WORKFLOW_INSERT
    + """SELECT 'old-' || g, 'old', 1, 'COMPLETED', NULL, 0, NULL, $3::bigint - 5000, $3, $3, 1, $4,
       jsonb_build_object('input', jsonb_build_object('n', g), 'output', '{}'::jsonb,
                          'variables', '{}'::jsonb, 'taskToDomain', '{}'::jsonb)
FROM generate_series($1::bigint, $2::bigint) AS g
"""
)
_GENERATE_TASKS = """
INSERT INTO task (task_id, workflow_id, ref_name, retry_count, seq, task_type, status,
                  scheduled_time, start_time, end_time, update_time, body)
SELECT 'old-task-' || g, 'old-' || g, 'only', 0, 1, 'old_task', 'COMPLETED',
       $3::bigint - 5000, $3::bigint - 4000, $3, $3,
       jsonb_build_object('taskDefName', 'old_task', 'inputData', jsonb_build_object('n', g),
                          'outputData', '{}'::jsonb, 'workflowType', 'old')
FROM generate_series($1::bigint, $2::bigint) AS g
"""


@dataclass
class Phase:
    label: str
    polls: list[float]
    updates: list[float]
    purged: float


LIVE = {
    "name": "live",
    "version": 1,
    "ownerEmail": "bench@example.com",
    "timeoutSeconds": 0,
    "tasks": [{"name": "live_task", "taskReferenceName": "only", "type": "SIMPLE"}],
}


async def generate(dsn: str, n: int) -> None:
    now = int(time.time() * 1000)
    conn = await asyncpg.connect(dsn)
    try:
        await add_definition(conn, "old", '{"name": "old", "version": 1, "tasks": []}')
        for first in range(1, n + 1, 50_000):
            last = min(first + 49_999, n)
            await conn.execute(_GENERATE_WORKFLOWS, first, last, now - 60 * DAY_MS, "old")
            await conn.execute(_GENERATE_TASKS, first, last, now - 60 * DAY_MS)
        await conn.execute("VACUUM ANALYZE workflow")
        await conn.execute("VACUUM ANALYZE task")
        # Write the generated pages out now, not in a spread checkpoint during the first phases.
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def phase(
    args: argparse.Namespace, dsn: str, work_dir: Path, label: str, retention: bool
) -> Phase:
    env = {"CONDUCTOR_RETENTION_DAYS": "30" if retention else None}
    async with running_server(dsn, work_dir / f"server-{label}.log", env=env) as server:
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as session:
            api = server.api
            async with session.post(f"{api}/metadata/workflow?overwrite=true", json=LIVE) as r:
                assert r.status == 200, await r.text()
            sem = asyncio.Semaphore(32)

            async def start_one() -> None:
                async with sem, session.post(f"{api}/workflow/live", json={}) as resp:
                    assert resp.status == 200, await resp.text()

            # Enough queued work that the queue never runs dry during the phase.
            backlog = max(BACKLOG, int(args.rate * args.seconds * 1.2))
            await asyncio.gather(*(start_one() for _ in range(backlog)))
            before = await scrape(session, server.url)
            polls: list[float] = []
            updates: list[float] = []
            interval = WORKERS / args.rate
            stop_at = time.perf_counter() + args.seconds

            async def worker(index: int) -> None:
                next_at = time.perf_counter() + index * interval / WORKERS
                while time.perf_counter() < stop_at:
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    next_at += interval
                    started = time.perf_counter()
                    async with session.get(
                        f"{api}/tasks/poll/live_task", params={"workerid": f"w{index}"}
                    ) as resp:
                        if resp.status != 200:
                            continue
                        task = await resp.json()
                    polls.append((time.perf_counter() - started) * 1000)
                    result = {
                        "workflowInstanceId": task["workflowInstanceId"],
                        "taskId": task["taskId"],
                        "status": "COMPLETED",
                        "outputData": {"ok": True},
                    }
                    started = time.perf_counter()
                    async with session.post(f"{api}/tasks", json=result) as resp:
                        await resp.read()
                        assert resp.status == 200
                    updates.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(*(worker(i) for i in range(WORKERS)))
            after = await scrape(session, server.url)
    purged = after.get("conductor_workflows_purged_total", 0.0) - before.get(
        "conductor_workflows_purged_total", 0.0
    )
    return Phase(label, polls, updates, purged)


async def benchmark(args: argparse.Namespace, work_dir: Path) -> str:
    async with bench_database(args.database_url, work_dir) as (dsn, machine):
        # A first server migrates the schema; then the backlog is generated.
        async with running_server(dsn, work_dir / "server-migrate.log"):
            pass
        log.info("generating %d finished workflows", args.finished)
        await generate(dsn, args.finished)
        # A discarded first phase: the first server over a new database warms caches.
        await phase(args, dsn, work_dir, "warm-up", retention=False)
        phases = []
        for round_ in range(1, args.rounds + 1):
            a_label, b_label = f"A{round_} (off)", f"B{round_} (purging)"
            # A B, then B A: a drift over the run (the live tables grow) falls on both modes.
            if round_ % 2:
                a = await phase(args, dsn, work_dir, a_label, retention=False)
                b = await phase(args, dsn, work_dir, b_label, retention=True)
            else:
                b = await phase(args, dsn, work_dir, b_label, retention=True)
                a = await phase(args, dsn, work_dir, a_label, retention=False)
            log.info("round %d done: %d purged in B", round_, b.purged)
            phases += [a, b]
    return markdown(args, machine, phases)


def pooled(label: str, phases: list[Phase]) -> Phase:
    return Phase(
        label,
        [ms for p in phases for ms in p.polls],
        [ms for p in phases for ms in p.updates],
        sum(p.purged for p in phases),
    )


def markdown(args: argparse.Namespace, machine: Machine, phases: list[Phase]) -> str:
    a = pooled("all A (off)", [p for p in phases if p.label.startswith("A")])
    b = pooled("all B (purging)", [p for p in phases if p.label.startswith("B")])
    command = command_line("bench.retention")
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {machine.summary()} ({machine.postgres_kind})",
        "",
        f"{args.finished:,} finished workflows stored; {args.rate} tasks/s polled and completed "
        f"for {args.seconds} s per phase.",
        "",
        "| phase | polls | poll p50 / p99 ms | update p50 / p99 ms | workflows purged |",
        "|---|---|---|---|---|",
    ]
    for p in (*phases, a, b):
        lines.append(
            f"| {p.label} | {len(p.polls)} | {percentile(p.polls, 0.5):.1f} / "
            f"{percentile(p.polls, 0.99):.1f} | {percentile(p.updates, 0.5):.1f} / "
            f"{percentile(p.updates, 0.99):.1f} | {p.purged:,.0f} |"
        )
    ratios = []
    for key in ("polls", "updates"):
        ratio = p99_ratio(b, a, key)
        met = "met" if ratio <= TARGET_RATIO else "NOT met"
        ratios.append(f"{key} p99 B ÷ A = **{ratio:.2f}** ({met}, target ≤ {TARGET_RATIO})")
    lines += ["", "Pooled: " + "; ".join(ratios) + "."]
    pairs = [(phases[i], phases[i + 1]) for i in range(0, len(phases) - 1, 2)]
    medians = [
        statistics.median(p99_ratio(b_, a_, key) for a_, b_ in pairs)
        for key in ("polls", "updates")
    ]
    lines.append(
        f"Median over rounds of each round's p99 B ÷ A: poll {medians[0]:.2f}, "
        f"update {medians[1]:.2f}."
    )
    # The noise floor: the same comparison between two halves of the A phases alone.
    odd = pooled("A odd", [a_ for a_, _ in pairs[0::2]])
    even = pooled("A even", [a_ for a_, _ in pairs[1::2]])
    if odd.polls and even.polls:
        lines.append(
            "Noise floor (A phases of even rounds ÷ those of odd rounds, pooled p99): "
            f"poll {p99_ratio(even, odd, 'polls'):.2f}, "
            f"update {p99_ratio(even, odd, 'updates'):.2f}."
        )
    seconds_b = args.seconds * len(pairs)
    lines.append(f"Retention removed {b.purged / seconds_b:,.0f} workflows/s during B phases.")
    return "\n".join(lines) + "\n"


def p99_ratio(top: Phase, bottom: Phase, key: str) -> float:
    values_top, values_bottom = getattr(top, key), getattr(bottom, key)
    return percentile(values_top, 0.99) / percentile(values_bottom, 0.99)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--finished", type=int, default=100_000, help="finished workflows stored")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    p.add_argument("--rate", type=int, default=100, help="tasks polled and completed per second")
    p.add_argument("--rounds", type=int, default=8, help="A/B phase pairs")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(run_in_scratch(lambda work_dir: benchmark(args, work_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
