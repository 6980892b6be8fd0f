"""The throughput bench's result and its markdown: figures, CPU cost per operation, statements."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench.cpu import other_load
from bench.machine import Machine
from bench.throughput_workload import TASK_TYPES

TARGET_RATIO = 0.3


@dataclass
class Result:
    workflows: int
    tasks: int
    worker_concurrency: int
    start_concurrency: int
    baseline_seconds: float
    server_pool_size: int | None
    start_seconds: float
    starts_per_s: float
    run_seconds: float
    workflows_per_s: float
    task_completions_per_s: float
    raw_commits_per_s_1: float
    raw_commits_per_s_c: float
    ratio_vs_1: float
    ratio_vs_c: float
    cpu_seconds: dict[str, float]  # timed phase: {group}_cpu, {group}_wait, wall
    server_metrics: dict[str, float]
    db_per_task: dict[str, float]
    statuses: dict[str, int]
    statements: list[dict[str, Any]]
    machine: Machine
    baseline_cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    command: str = ""
    notes: list[str] = field(default_factory=list)  # failures: the exit status is 1
    warnings: list[str] = field(default_factory=list)


def server_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Counters of the timed phase: retries, ignored updates, mean latencies in ms."""

    def delta(prefix: str, contains: str = "") -> float:
        return sum(
            value - before.get(key, 0.0)
            for key, value in after.items()
            if key.startswith(prefix) and contains in key
        )

    def mean_ms(name: str, contains: str) -> float:
        count = delta(f"{name}_count", contains)
        return round(1000 * delta(f"{name}_sum", contains) / count, 2) if count else 0.0

    http = "conductor_http_request_seconds"
    return {
        "transition_retries": delta("conductor_transition_retries_total"),
        "task_updates_ignored": delta("conductor_task_updates_ignored_total"),
        "transitions": delta("conductor_transition_seconds_count", "TaskResultReceived"),
        "transition_mean_ms": mean_ms("conductor_transition_seconds", "TaskResultReceived"),
        "update_v2_requests": delta(f"{http}_count", "update-v2"),
        "update_v2_mean_ms": mean_ms(http, "update-v2"),
        "batch_poll_requests": delta(f"{http}_count", "poll/batch"),
        "batch_poll_mean_ms": mean_ms(http, "poll/batch"),
    }


def markdown(r: Result) -> str:
    m = r.machine
    c = r.worker_concurrency
    sm = r.server_metrics

    def verdict(ratio: float) -> str:
        return "meets" if ratio >= TARGET_RATIO else "below"

    lines = [
        f"### {r.workflows} workflows x {len(TASK_TYPES)} SIMPLE tasks, "
        f"{m.postgres_kind} PostgreSQL ({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"`{r.command}`",
        "",
        "| measure | value |",
        "|---|---|",
        f"| workflow starts/s ({r.start_concurrency} in flight) | {r.starts_per_s:.0f} |",
        f"| timed phase (first poll to last completion) | {r.run_seconds:.2f} s |",
        f"| workflows/s | {r.workflows_per_s:.1f} |",
        f"| task completions/s (3N / time) | {r.task_completions_per_s:.1f} |",
        f"| raw single-row commits/s, 1 connection | {r.raw_commits_per_s_1:.0f} |",
        f"| raw single-row commits/s, {c} connections | {r.raw_commits_per_s_c:.0f} |",
        f"| ratio completions / raw (1 conn) | {r.ratio_vs_1:.3f} "
        f"({verdict(r.ratio_vs_1)} target {TARGET_RATIO}) |",
        f"| ratio completions / raw ({c} conns) | {r.ratio_vs_c:.3f} "
        f"({verdict(r.ratio_vs_c)} target {TARGET_RATIO}) |",
        f"| server: update-v2 requests, mean latency | {sm['update_v2_requests']:.0f}, "
        f"{sm['update_v2_mean_ms']:.1f} ms |",
        f"| server: batch polls, mean latency (incl. long-poll wait) | "
        f"{sm['batch_poll_requests']:.0f}, {sm['batch_poll_mean_ms']:.1f} ms |",
        f"| server: task-result transitions, mean time | {sm['transitions']:.0f}, "
        f"{sm['transition_mean_ms']:.1f} ms |",
        f"| server: transition retries / ignored updates | {sm['transition_retries']:.0f} / "
        f"{sm['task_updates_ignored']:.0f} |",
        *(
            f"| database per task completion: {key} | {value:g} |"
            for key, value in r.db_per_task.items()
        ),
        f"| final statuses (via API) | {', '.join(f'{k}: {v}' for k, v in r.statuses.items())} |",
        "",
        *cpu_table(r),
        *statement_table(r),
        "",
        f"Workers: `workers` library, batch poll + update-v2, {c} slots over "
        f"{len(TASK_TYPES)} task types, in the benchmark process; server in its own process"
        + (f" (pool size {r.server_pool_size})" if r.server_pool_size else "")
        + f"; baseline {r.baseline_seconds:.0f} s per variant.",
        "",
        f"Machine: {m.summary()} ({m.postgres_kind}; synchronous_commit={m.synchronous_commit}, "
        f"fsync={m.fsync}, wal_sync_method={m.wal_sync_method}).",
    ]
    lines.extend(f"\n**{note}**" for note in r.notes)
    lines.extend(f"\nWarning: {warning}." for warning in r.warnings)
    return "\n".join(lines) + "\n"


def cpu_table(r: Result) -> list[str]:
    """CPU cost per operation of each phase: a raw commit, or a task completion."""
    cores = r.machine.nproc
    rows = [
        "| phase | ops/s | PostgreSQL CPU ms/op | client CPU ms/op | server CPU ms/op "
        "| cores busy: bench processes / others / idle | server waiting for a CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    phases = [(f"raw INSERT, {k} conn(s)", v, v["ops"]) for k, v in r.baseline_cpu.items()]
    phases.append(("task completions (timed phase)", r.cpu_seconds, r.tasks))
    for name, cpu, ops in phases:
        wall = cpu["wall"]
        busy = sum(v for k, v in cpu.items() if k.endswith("_cpu")) / wall
        idle = cpu["machine_idle"] / wall
        others = other_load(cpu, cores)
        server = cpu.get("server_cpu")
        rows.append(
            f"| {name} | {ops / wall:.0f} | {1000 * cpu['postgres_cpu'] / ops:.3f} "
            f"| {1000 * cpu['load_generator_cpu'] / ops:.3f} "
            + (f"| {1000 * server / ops:.3f} " if server is not None else "| - ")
            + f"| {busy:.2f} / {others:.2f} / {idle:.2f} of {cores} "
            + (
                f"| {100 * cpu['server_wait'] / wall:.0f}% of wall |"
                if server is not None
                else "| - |"
            )
        )
    return rows


def statement_table(r: Result, top: int = 25) -> list[str]:
    """pg_stat_statements of the timed phase, per task completion (empty if not collected)."""
    if not r.statements:
        return []
    calls = sum(row["calls"] for row in r.statements)
    exec_ms = sum(row["total_exec_time"] for row in r.statements)
    rows = [
        "",
        f"Statements (pg_stat_statements, timed phase): {calls / r.tasks:.1f} per task "
        f"completion, {exec_ms / r.tasks:.3f} ms execution time per task completion.",
        "",
        "| calls per completion | mean exec ms | statement |",
        "|---|---|---|",
    ]
    for row in r.statements[:top]:
        text = " ".join(row["query"].split()).replace("|", "\\|")
        text = text if len(text) <= 90 else text[:87] + "..."
        mean = row["total_exec_time"] / row["calls"]
        rows.append(f"| {row['calls'] / r.tasks:.2f} | {mean:.3f} | `{text}` |")
    return rows
