"""The five workloads of the mixed-load bench (see bench.mixed_load for what each measures).

Each scenario runs against the one server of the run, on workflows and task types of its own,
with its workers (the `workers` library: batch polls and update-v2) running in this process
while the starts arrive. Each returns a flat dict of figures; `Probe` adds the CPU split and,
when asked, the database's commits per task.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.cpu import CpuMeter
from bench.mixed_workload import (
    Recorder,
    dispatch_ms,
    simple,
    task_def,
    wait_then_step,
    workflow,
)
from bench.postgres import db_stats, idle_commit_ms
from bench.report import percentile
from bench.server_api import start_workflows
from bench.throughput_workload import statuses
from workers import ConductorClient, TaskRunner

log = logging.getLogger("bench")

WAIT_S = 5.0
# M5's quiet between runs, for the long-poll to reach the server and wait there.
_M5_IDLE_S = 0.02


@dataclass
class Context:
    """What every scenario needs: the API, a session, the database and the CPU meter's pids."""

    api: str
    dsn: str
    session: aiohttp.ClientSession
    postmaster: int
    server_pid: int
    db_stats: bool
    timeout: float


@dataclass
class Probe:
    """CPU (and optionally commits) of one scenario's timed phase, per operation."""

    ctx: Context
    meter: CpuMeter = field(init=False)
    db_before: dict[str, float] = field(default_factory=dict)

    async def start(self) -> None:
        self.db_before = await db_stats(self.ctx.dsn, self.ctx.db_stats)
        self.meter = CpuMeter(self.ctx.postmaster, self.ctx.server_pid)
        self.meter.start()

    async def stop(self, operations: int, figures: dict[str, Any]) -> None:
        cpu = self.meter.stop()
        for party in ("server", "postgres", "load_generator"):
            figures[f"cpu_ms_per_op_{party}"] = round(1000 * cpu[f"{party}_cpu"] / operations, 3)
        busy = sum(v for k, v in cpu.items() if k.endswith("_cpu"))
        figures["cores_busy"] = round(busy / cpu["wall"], 2)
        if self.ctx.db_stats:
            after = await db_stats(self.ctx.dsn, True)
            commits = after["xact_commit"] - self.db_before["xact_commit"]
            figures["commits_per_op"] = round(commits / operations, 2)


async def register(ctx: Context, task_types: list[str], definition: dict[str, Any]) -> None:
    admin = ConductorClient(ctx.api)
    try:
        await admin.register_task_defs([task_def(t) for t in task_types])
        await admin.register_workflow_def(definition)
    finally:
        await admin.close()


async def start_many(
    ctx: Context, name: str, count: int, in_flight: int, inputs: Callable[[int], dict[str, Any]]
) -> tuple[list[str], list[float], float]:
    """Start `count` runs with `in_flight` requests at a time; (ids, latencies ms, seconds)."""
    latencies: list[float] = []
    ids, seconds = await start_workflows(
        ctx.session, ctx.api, name, count, in_flight, inputs, latencies
    )
    return ids, latencies, seconds


def _pcts(prefix: str, values: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50": round(percentile(values, 0.50), 1),
        f"{prefix}_p99": round(percentile(values, 0.99), 1),
        f"{prefix}_max": round(max(values), 1) if values else float("nan"),
    }


async def with_workers(
    ctx: Context, recorders: list[Recorder], body: Callable[[], Awaitable[None]]
) -> None:
    """Run `body` while the recorders' worker runs; stop them afterwards."""
    client = ConductorClient(ctx.api)
    runner = TaskRunner(client, recorders, worker_id=f"bench-{os.getpid()}", use_update_v2=True)
    running = asyncio.create_task(runner.run())
    try:
        await body()
    finally:
        await runner.stop(5.0)
        await running
        await client.close()


async def m1_starts_while_workers_run(
    ctx: Context, workflows: int, in_flight: int, slots_per_type: int
) -> dict[str, Any]:
    """Three SIMPLE steps per run; starts arrive while the workers drain the queues, with
    `slots_per_type` worker slots for each step's task type."""
    types = ["m1_step_1", "m1_step_2", "m1_step_3"]
    steps = [simple(t, f"s{i}", {"value": "${workflow.input.value}"}) for i, t in enumerate(types)]
    await register(ctx, types, workflow("m1_three_steps", steps))
    recorders = [Recorder(t, slots_per_type) for t in types]
    figures: dict[str, Any] = {"workflows": workflows, "tasks": 3 * workflows}
    probe = Probe(ctx)
    await probe.start()
    began = time.perf_counter()

    async def body() -> None:
        ids, latencies, start_s = await start_many(
            ctx, "m1_three_steps", workflows, in_flight, lambda i: {"value": i}
        )
        figures["starts_per_s"] = round(workflows / start_s, 1)
        figures.update(_pcts("start_ms", latencies))
        await recorders[-1].wait_for(workflows, ctx.timeout)
        figures["ids"] = ids

    await with_workers(ctx, recorders, body)
    seconds = time.perf_counter() - began
    figures["seconds"] = round(seconds, 2)
    figures["tasks_per_s"] = round(3 * workflows / seconds, 1)
    figures.update(_pcts("dispatch_ms", [d for r in recorders for d in dispatch_ms(r.received)]))
    await probe.stop(3 * workflows, figures)
    found = await statuses(ctx.session, ctx.api, figures.pop("ids"), 32)
    figures["completed"] = found.get("COMPLETED", 0)
    return figures


async def m2_starts_only(ctx: Context, seconds: float, in_flight: int) -> dict[str, Any]:
    """Starts for `seconds`, nobody polling (the queue only grows)."""
    await register(ctx, ["m2_step"], workflow("m2_one_step", [simple("m2_step", "s")]))
    latencies: list[float] = []
    probe = Probe(ctx)
    await probe.start()
    stop_at = time.perf_counter() + seconds
    began = time.perf_counter()

    async def starter() -> None:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            async with ctx.session.post(f"{ctx.api}/workflow/m2_one_step", json={}) as resp:
                await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"start failed: {resp.status}")
            latencies.append(1000 * (time.perf_counter() - t0))

    await asyncio.gather(*(starter() for _ in range(in_flight)))
    elapsed = time.perf_counter() - began
    figures: dict[str, Any] = {"starts": len(latencies), "seconds": round(elapsed, 2)}
    figures["starts_per_s"] = round(len(latencies) / elapsed, 1)
    figures.update(_pcts("start_ms", latencies))
    await probe.stop(len(latencies), figures)
    return figures


async def m3_wait_then_step(ctx: Context, workflows: int, in_flight: int) -> dict[str, Any]:
    """WAIT 5 s then one SIMPLE step; started at full speed while the step's worker runs."""
    name = "m3_wait_then_step"
    await register(ctx, ["m3_step"], wait_then_step(name, "m3_step", {"duration": "5s"}))
    recorder = Recorder("m3_step", 32)
    figures: dict[str, Any] = {"workflows": workflows}
    probe = Probe(ctx)
    await probe.start()

    async def body() -> None:
        _, latencies, start_s = await start_many(ctx, name, workflows, in_flight, lambda i: {})
        figures["starts_per_s"] = round(workflows / start_s, 1)
        figures.update(_pcts("start_ms", latencies))
        await recorder.wait_for(workflows, ctx.timeout)

    await with_workers(ctx, [recorder], body)
    wait_late, claim_late, worker_late = [], [], []
    for r in recorder.received:
        due = float(r.inputs["waitStarted"]) + 1000 * WAIT_S
        wait_late.append(float(r.inputs["waitEnded"]) - due)
        claim_late.append(r.claimed_ms - due)
        worker_late.append(r.at_ms - due)
    figures.update(_pcts("wait_late_ms", wait_late))
    figures.update(_pcts("claim_late_ms", claim_late))
    figures.update(_pcts("worker_late_ms", worker_late))
    await probe.stop(2 * workflows, figures)
    return figures


async def m4_due_at_one_instant(ctx: Context, workflows: int, in_flight: int) -> dict[str, Any]:
    """Every run WAITs until the same instant T, then one SIMPLE step each."""
    # T leaves room for the starts at 120/s at least, plus a margin: with 400/s, a busy machine
    # still starting runs at T measured the starts, not the drain (seen: T passed 38 s before
    # the last start). `started_before_t_s` below zero marks such a run as not valid.
    due_ms = (int(time.time() + workflows / 120 + 10)) * 1000
    until = datetime.fromtimestamp(due_ms / 1000, UTC).isoformat()
    name = "m4_due_together"
    await register(ctx, ["m4_step"], wait_then_step(name, "m4_step", {"until": until}))
    recorder = Recorder("m4_step", 32)
    figures: dict[str, Any] = {"workflows": workflows}
    probe = Probe(ctx)
    await probe.start()

    async def body() -> None:
        _, _, start_s = await start_many(ctx, name, workflows, in_flight, lambda i: {})
        figures["started_before_t_s"] = round(due_ms / 1000 - time.time(), 1)
        if figures["started_before_t_s"] < 0:
            log.warning("M4 is not valid: T passed before every run was started")
        figures["starts_per_s"] = round(workflows / start_s, 1)
        await recorder.wait_for(workflows, ctx.timeout)

    await with_workers(ctx, [recorder], body)
    last_wait = max(float(r.inputs["waitEnded"]) for r in recorder.received)
    last_step = max(r.at_ms for r in recorder.received)
    figures["last_wait_fired_after_t_s"] = round((last_wait - due_ms) / 1000, 2)
    figures["last_step_at_worker_after_t_s"] = round((last_step - due_ms) / 1000, 2)
    await probe.stop(2 * workflows, figures)
    return figures


async def m5_one_at_a_time(ctx: Context, runs: int) -> dict[str, Any]:
    """One run at a time, one task: start → the worker has it → COMPLETED visible. Also its
    floor on this machine at the same pace: a request to the server that does no work, and a
    durable commit (see `_floor`)."""
    name = "m5_single"
    await register(ctx, ["m5_step"], workflow(name, [simple("m5_step", "s")]))
    poll_url = f"{ctx.api}/tasks/poll/batch/m5_step?count=1&timeout=2000&workerid=m5"
    to_worker, end_to_end, dispatch = [], [], []
    probe = Probe(ctx)
    await probe.start()
    for _ in range(runs):
        polling = asyncio.create_task(_poll(ctx.session, poll_url))
        await asyncio.sleep(_M5_IDLE_S)
        began = time.perf_counter()
        async with ctx.session.post(f"{ctx.api}/workflow/{name}", json={}) as resp:
            workflow_id = (await resp.text()).strip()
        [task], got, got_epoch_ms = await polling
        dispatch.append(got_epoch_ms - float(task["scheduledTime"]))
        result = {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {},
        }
        async with ctx.session.post(f"{ctx.api}/tasks", json=result) as resp:
            await resp.read()
        async with ctx.session.get(f"{ctx.api}/workflow/{workflow_id}/status") as resp:
            status = (await resp.json())["status"]
        if status != "COMPLETED":
            raise RuntimeError(f"run {workflow_id} is {status} after its only task completed")
        end_to_end.append(1000 * (time.perf_counter() - began))
        to_worker.append(1000 * (got - began))
    figures: dict[str, Any] = {"runs": runs}
    figures.update(_pcts("start_to_worker_ms", to_worker))
    figures.update(_pcts("dispatch_ms", dispatch))
    figures.update(_pcts("end_to_end_ms", end_to_end))
    await probe.stop(runs, figures)
    figures.update(await _floor(ctx, runs, figures))
    return figures


async def _floor(ctx: Context, runs: int, m5: dict[str, Any]) -> dict[str, Any]:
    """M5's raw limit, at M5's pace (each step after the same idle gap): `request` is a GET of
    /api/version (the server's whole request path, no database), `commit` one autocommit 1-row
    INSERT. The least a start can take to reach a waiting worker is one request's way in and
    out plus a durable commit; a run, start to finish, three requests and two commits. The
    ratios compare M5's medians with those sums of medians."""
    request = []
    for _ in range(runs):
        await asyncio.sleep(_M5_IDLE_S)
        began = time.perf_counter()
        async with ctx.session.get(f"{ctx.api}/version") as resp:
            await resp.read()
        request.append(1000 * (time.perf_counter() - began))
    commit = await idle_commit_ms(ctx.dsn, runs, _M5_IDLE_S)
    request_ms, commit_ms = percentile(request, 0.5), percentile(commit, 0.5)
    return {
        "floor_request_ms_p50": round(request_ms, 2),
        "floor_commit_ms_p50": round(commit_ms, 2),
        "start_to_worker_per_floor": round(
            m5["start_to_worker_ms_p50"] / (request_ms + commit_ms), 2
        ),
        "end_to_end_per_floor": round(
            m5["end_to_end_ms_p50"] / (3 * request_ms + 2 * commit_ms), 2
        ),
    }


async def _poll(
    session: aiohttp.ClientSession, url: str
) -> tuple[list[dict[str, Any]], float, float]:
    """A worker's poll: what it got, and when (perf counter, epoch ms) it had it; timed here,
    not after the start's answer, which the single-threaded bench may read first."""
    async with session.get(url) as resp:
        found: list[dict[str, Any]] = await resp.json()
        return found, time.perf_counter(), time.time() * 1000
