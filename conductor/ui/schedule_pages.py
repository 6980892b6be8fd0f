"""/scheduleDefs and /scheduleDef/{name}: cron schedules, their next fire times (from the
scheduler's own cron code) and recent runs. Pause, resume and delete are /api/scheduler calls."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from conductor.api.keys import CLOCK, POOL
from conductor.engine.model import JSON
from conductor.store import schedules as store
from conductor.timers.cron import CronError
from conductor.timers.scheduler import runs_after
from conductor.ui.actions import Action
from conductor.ui.frame import may_administer, may_operate, page, reading_page

STATES = ("all", "active", "paused")
RECENT_RUNS = 20


def _next_runs(schedule: JSON, now: int, count: int) -> list[int]:
    if schedule.get("paused"):
        return []
    try:
        return runs_after(schedule, now, count)
    except CronError:  # validated when saved; a broken one shows no times rather than a 500
        return []


def _actions(schedule: JSON, on_own_page: bool) -> list[Action]:
    name = str(schedule["name"])
    base = f"/api/scheduler/schedules/{quote(name, safe='')}"
    if schedule.get("paused"):
        toggle = Action("Resume", "PUT", f"{base}/resume", f"Resume schedule {name}?")
    else:
        toggle = Action("Pause", "PUT", f"{base}/pause", f"Pause schedule {name}?")
    if not on_own_page:
        return [toggle]
    delete = Action("Delete", "DELETE", base, f"Delete schedule {name}?", then="/scheduleDefs")
    return [toggle, delete]


def _scheduler_action(paused: bool) -> Action:
    """Admins pause or resume the whole scheduler (every schedule, on every server)."""
    if paused:
        return Action(
            "Resume the scheduler", "GET", "/api/scheduler/admin/resume", "Resume all scheduling?"
        )
    return Action(
        "Pause the scheduler",
        "GET",
        "/api/scheduler/admin/pause",
        "Pause all scheduling, on every server, until resumed?",
    )


def _row(schedule: JSON, now: int, operator: bool) -> dict[str, Any]:
    start: Any = schedule.get("startWorkflowRequest") or {}
    return {
        "schedule": schedule,
        "workflow_name": start.get("name", ""),
        "workflow_version": start.get("version"),
        "next_runs": _next_runs(schedule, now, 3),
        "actions": _actions(schedule, False) if operator else [],
    }


@reading_page
async def schedule_defs(request: web.Request) -> web.StreamResponse:
    state = request.query.get("state", "all")
    state = state if state in STATES else "all"
    async with request.app[POOL].acquire() as conn:
        found = await store.list_all(conn, None)
        scheduler_paused = await store.scheduler_paused(conn)
    if state != "all":
        found = [s for s in found if bool(s.get("paused")) == (state == "paused")]
    now, operator = request.app[CLOCK].now_ms(), may_operate(request)
    rows = [_row(schedule, now, operator) for schedule in found]
    return page(
        request,
        "schedule_defs.html",
        rows=rows,
        state=state,
        states=STATES,
        may_operate=operator,
        scheduler_paused=scheduler_paused,
        scheduler_actions=[_scheduler_action(scheduler_paused)] if may_administer(request) else [],
    )


@reading_page
async def schedule_def(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        schedule = await store.get(conn, name)
        runs = await store.executions(conn, name, 0, RECENT_RUNS) if schedule else []
    if schedule is None:
        return page(request, "not_found.html", 404, what=f"schedule {name}")
    operator = may_operate(request)
    return page(
        request,
        "schedule_def.html",
        schedule=schedule,
        next_runs=_next_runs(schedule, request.app[CLOCK].now_ms(), 5),
        runs=runs,
        actions=_actions(schedule, True) if operator else [],
        may_operate=operator,
    )
