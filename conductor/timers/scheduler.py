"""Cron schedules: start a workflow at each fire time, exactly once, across servers and restarts.

Due schedules are locked with SKIP LOCKED, so one server handles a schedule at a time. The
workflow a fire time starts has an id derived from (schedule, fire time), so a repeated attempt
(another server, a crash and restart) finds the same workflow instead of starting a second. Fire
times missed while no server ran are each run once when the schedule asks for catch-up
(`runCatchupScheduleInstances`); otherwise only a fire time less than a minute old still runs.

The whole scheduler can be paused (GET /api/scheduler/admin/pause): a switch in the database that
each round reads, share-locked, before it claims anything, so every server obeys it and a pause
waits for rounds already firing. Nothing is recomputed on pause or resume: fire times that came
due meanwhile are then handled as after downtime, as Conductor's poller finds its queued
schedules again once resumed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from conductor.background import BackgroundService
from conductor.clock import Clock
from conductor.engine.model import JSON
from conductor.errors import NotFound, PayloadTooLarge
from conductor.executor import Executor
from conductor.store import schedules as store
from conductor.store.pool import Conn
from conductor.store.values import DueSchedule
from conductor.timers.cron import CronError, fire_times, trigger
from conductor.wire.start_request import start_request

log = logging.getLogger(__name__)

CATCH_UP_GRACE_MS = 60_000
_MAX_CATCH_UP = 10_000


def first_run_after(body: JSON, after_ms: int) -> int | None:
    """The schedule's next fire time after `after_ms`, within its start and end times."""
    found = runs_after(body, after_ms, 1)
    return found[0] if found else None


def runs_after(body: JSON, after_ms: int, limit: int) -> list[int]:
    """Up to `limit` of the schedule's fire times after `after_ms`, within its start and end
    times."""
    cron = trigger(str(body["cronExpression"]), str(body.get("zoneId") or "UTC"))
    start = body.get("scheduleStartTime") or 0
    end = body.get("scheduleEndTime") or None
    return fire_times(cron, max(after_ms, int(start) - 1), int(end) if end else None, limit)


@dataclass(frozen=True)
class Requeued:
    """What re-deriving the next runs did: the unpaused schedules checked, by name, and those whose
    next run could not be derived (name -> why)."""

    names: list[str]
    errors: dict[str, str]


async def requeue(conn: Conn, now: int) -> Requeued:
    """Re-derive the next fire time of every unpaused schedule from its cron, repairing a missing
    or wrong one; doing it again changes nothing.

    A next run already due is left alone: the schedule service fires it (with its catch-up
    policy) as it would have anyway. Runs in one transaction that locks the schedules, so it waits
    for a round firing one and never overwrites the next run that round sets.
    """
    names: list[str] = []
    errors: dict[str, str] = {}
    changed: dict[str, int | None] = {}
    async with conn.transaction():
        for schedule in await store.lock_active(conn):
            if schedule.next_run_time is not None and schedule.next_run_time <= now:
                names.append(schedule.name)
                continue
            try:
                derived = first_run_after(schedule.body, now)
            except (CronError, KeyError) as exc:
                errors[schedule.name] = str(exc)
                continue
            names.append(schedule.name)
            if derived != schedule.next_run_time:
                changed[schedule.name] = derived
        await store.set_next_runs(conn, changed)
    if changed:
        log.warning("requeue repaired the next run of schedules %s", sorted(changed))
    return Requeued(names, errors)


class ScheduleService(BackgroundService):
    name = "schedules"

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        executor: Executor,
        *,
        poll_interval_s: float = 1.0,
        batch: int = 50,
    ) -> None:
        super().__init__()
        self.pool = pool
        self.clock = clock
        self.executor = executor
        self.poll_interval_s = poll_interval_s
        self.batch = batch

    async def step(self) -> float:
        await self.run_once()
        return self.poll_interval_s

    async def run_once(self) -> int:
        """Start the workflows of every due fire time; returns how many runs were recorded."""
        now = self.clock.now_ms()
        recorded = 0
        async with self.pool.acquire() as conn, conn.transaction():
            if await store.scheduler_paused_for_round(conn):
                return 0
            for due in await store.claim_due(conn, now, self.batch):
                recorded += await self._run_schedule(conn, due, now)
        return recorded

    async def _run_schedule(self, conn: Any, schedule: DueSchedule, now: int) -> int:
        body, name = schedule.body, schedule.name
        try:
            cron = trigger(str(body["cronExpression"]), str(body.get("zoneId") or "UTC"))
        except CronError as exc:  # validated on create; a stored one broken since stops here
            log.error("schedule %s has an invalid cron expression: %s", name, exc)
            await store.set_next_run(conn, name, None)
            return 0
        end = body.get("scheduleEndTime") or None
        until = min(now, int(end)) if end else now
        due = fire_times(cron, schedule.next_run_time - 1, until, _MAX_CATCH_UP)
        if not body.get("runCatchupScheduleInstances"):
            missed = len(due)
            due = [t for t in due if now - t <= CATCH_UP_GRACE_MS][-1:]
            if missed > len(due):
                self.executor.metrics.schedule_fires.labels("skipped").inc(missed - len(due))
        for fire_time in due:
            await self._start(conn, name, body, fire_time, now)
        await store.set_next_run(conn, name, first_run_after(body, now))
        return len(due)

    async def _start(self, conn: Any, name: str, body: JSON, fire_time: int, now: int) -> None:
        request: JSON = body.get("startWorkflowRequest") or {}
        workflow_name = str(request.get("name"))
        start = start_request(
            request,
            workflow_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"schedule:{name}:{fire_time}")),
        )
        start.input.update({"_scheduledTime": fire_time, "_executedTime": now})
        try:
            state = await self.executor.start(start)
        except (NotFound, PayloadTooLarge) as exc:
            await store.record_execution(
                conn, name, fire_time, now, workflow_name, None, "FAILED", exc.message
            )
            self.executor.metrics.schedule_fires.labels("failed").inc()
            log.warning("schedule %s could not start %s: %s", name, workflow_name, exc.message)
            return
        self.executor.metrics.schedule_fires.labels("started").inc()
        await store.record_execution(
            conn, name, fire_time, now, workflow_name, state.workflow_id, "EXECUTED", None
        )
