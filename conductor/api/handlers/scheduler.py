"""/api/scheduler: Conductor's schedule API (cron-started workflows)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import CLOCK, POOL
from conductor.api.permissions import requires
from conductor.errors import BadRequest, FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.store import schedules as store
from conductor.store.pool import Conn
from conductor.timers.cron import CronError, fire_times, trigger
from conductor.timers.scheduler import first_run_after, requeue

_SEARCH_MAX_SIZE = 5000  # as our workflow search: larger pages are refused, not cut
_REQUEUE_SAMPLE = 10

_STORED_ONLY = ("paused", "createTime", "updatedTime", "nextRunTime")


def _validate(body: dict[str, Any]) -> None:
    errors: list[FieldError] = []
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        errors.append(FieldError("workflowSchedule.name", "Schedule name cannot be empty"))
    request = body.get("startWorkflowRequest")
    if not isinstance(request, dict) or not request.get("name"):
        errors.append(
            FieldError(
                "workflowSchedule.startWorkflowRequest", "startWorkflowRequest.name is required"
            )
        )
    try:
        trigger(str(body.get("cronExpression") or ""), str(body.get("zoneId") or "UTC"))
    except CronError as exc:
        path = "zoneId" if "zoneId" in str(exc) else "cronExpression"
        errors.append(FieldError(f"workflowSchedule.{path}", str(exc), body.get(path)))
    for key in ("scheduleStartTime", "scheduleEndTime"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            errors.append(
                FieldError(f"workflowSchedule.{key}", f"{key} must be epoch milliseconds")
            )
    if errors:
        raise ValidationFailed(errors)


@requires(Permission.OPERATE, audited=True)
async def save(request: web.Request) -> web.Response:
    body = await rq.json_object(request, "workflowSchedule")
    _validate(body)
    definition = {k: v for k, v in body.items() if k not in _STORED_ONLY}
    definition.setdefault("zoneId", "UTC")
    paused = bool(body.get("paused"))
    now = request.app[CLOCK].now_ms()
    next_run = None if paused else first_run_after(definition, now)
    async with request.app[POOL].acquire() as conn:
        await store.upsert(conn, definition, paused, next_run, now)
        saved = await store.get(conn, definition["name"])
    return rq.json_response(saved)


@requires(Permission.READ)
async def list_schedules(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await store.list_all(conn, rq.query_str(request, "workflowName"))
    return rq.json_response(found)


@requires(Permission.READ)
async def get_schedule(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        schedule = await store.get(conn, name)
    if schedule is None:
        raise NotFound(f"Schedule {name} not found")
    return rq.json_response(schedule)


@requires(Permission.OPERATE, audited=True)
async def delete_schedule(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        if not await store.delete(conn, name):
            raise NotFound(f"Schedule {name} not found")
    return rq.empty()


async def _pause_or_resume(
    conn: Conn, name: str, paused: bool, reason: str | None, now: int
) -> bool:
    """Pause (with an optional reason) or resume one schedule; False when there is none."""
    schedule = await store.get(conn, name)
    if schedule is None:
        return False
    next_run = None if paused else first_run_after(schedule, now)
    await store.set_paused(conn, name, paused, {"pausedReason": reason}, next_run, now)
    return True


async def _set_paused(request: web.Request, paused: bool) -> web.Response:
    name = request.match_info["name"]
    reason = (rq.query_str(request, "reason") or None) if paused else None
    async with request.app[POOL].acquire() as conn:
        if not await _pause_or_resume(conn, name, paused, reason, request.app[CLOCK].now_ms()):
            raise NotFound(f"Schedule {name} not found")
    return rq.empty()


async def _set_paused_in_bulk(request: web.Request, paused: bool) -> web.Response:
    """PUT /api/scheduler/bulk/pause|resume: a list of schedule names; Conductor's
    BulkResponse, with a schedule that does not exist among the errors."""
    names = await rq.json_body(request)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationFailed([FieldError("scheduleNames", "a list of schedule names")])
    done: list[str] = []
    failed: dict[str, str] = {}
    async with request.app[POOL].acquire() as conn:
        for name in names:
            if await _pause_or_resume(conn, name, paused, None, request.app[CLOCK].now_ms()):
                done.append(name)
            else:
                failed[name] = f"Schedule {name} not found"
    return rq.json_response({"bulkErrorResults": failed, "bulkSuccessfulResults": done})


@requires(Permission.OPERATE, audited=True)
async def bulk_pause(request: web.Request) -> web.Response:
    return await _set_paused_in_bulk(request, True)


@requires(Permission.OPERATE, audited=True)
async def bulk_resume(request: web.Request) -> web.Response:
    return await _set_paused_in_bulk(request, False)


@requires(Permission.OPERATE, audited=True)
async def pause(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


@requires(Permission.OPERATE, audited=True)
async def resume(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


@requires(Permission.READ)
async def next_few(request: web.Request) -> web.Response:
    expression = rq.query_str(request, "cronExpression")
    if expression is None:
        raise ValidationFailed([FieldError("cronExpression", "cronExpression is required")])
    try:
        cron = trigger(expression, rq.query_str(request, "zoneId") or "UTC")
    except CronError as exc:
        raise ValidationFailed([FieldError("cronExpression", str(exc), expression)]) from exc
    start = rq.query_int(request, "scheduleStartTime", None) or request.app[CLOCK].now_ms()
    end = rq.query_int(request, "scheduleEndTime", None)
    limit = min(rq.query_int(request, "limit", 5, minimum=1) or 5, 1000)
    return rq.json_response(fire_times(cron, start - 1, end, limit))


@requires(Permission.READ)
async def executions(request: web.Request) -> web.Response:
    start = rq.query_int(request, "start", 0, minimum=0) or 0
    size = min(rq.query_int(request, "size", 100, minimum=0) or 100, 5000)
    async with request.app[POOL].acquire() as conn:
        results = await store.executions(conn, rq.query_str(request, "scheduleName"), start, size)
    return rq.json_response({"totalHits": len(results), "results": results})


@requires(Permission.READ)
async def search_schedules(request: web.Request) -> web.Response:
    """GET /api/scheduler/schedules/search: Conductor's SearchResult of schedules, by name.

    As Conductor OSS's stores: `workflowName` matches exactly, `scheduleName` anywhere in the
    name in any case, `paused` the state; `freeText` and `sort` are accepted and not used.
    """
    start = rq.query_int(request, "start", 0, minimum=0) or 0
    size = rq.query_int(request, "size", 100, minimum=0)
    size = 100 if size is None else size
    if size > _SEARCH_MAX_SIZE:
        raise BadRequest(
            f"Cannot return more than {_SEARCH_MAX_SIZE} results. Please use pagination."
        )
    paused = None
    if rq.query_str(request, "paused") is not None:
        paused = rq.query_bool(request, "paused", False)
    async with request.app[POOL].acquire() as conn:
        total, found = await store.search(
            conn,
            rq.query_str(request, "workflowName"),
            rq.query_str(request, "scheduleName"),
            paused,
            start,
            size,
        )
    return rq.json_response({"totalHits": total, "results": found})


async def _pause_scheduler(request: web.Request, paused: bool) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        await store.set_scheduler_paused(conn, paused, request.app[CLOCK].now_ms())
    return rq.json_response({"status": "done"})


@requires(Permission.ADMIN, audited=True)
async def pause_scheduler(request: web.Request) -> web.Response:
    """GET /api/scheduler/admin/pause: no schedule fires, on any server of this database, until
    resumed (Conductor pauses only the server asked, in memory)."""
    return await _pause_scheduler(request, True)


@requires(Permission.ADMIN, audited=True)
async def resume_scheduler(request: web.Request) -> web.Response:
    """GET /api/scheduler/admin/resume: fire times that came due while paused are run as after
    downtime (each one when the schedule catches up, else the latest if under a minute old)."""
    return await _pause_scheduler(request, False)


@requires(Permission.ADMIN, audited=True)
async def requeue_schedules(request: web.Request) -> web.Response:
    """GET /api/scheduler/admin/requeue: re-derive every unpaused schedule's next run.

    Conductor answers how many records it put back on its queue and up to ten of their ids, and
    an `error.<id>` entry for each that failed; here the records are the unpaused schedules.
    """
    async with request.app[POOL].acquire() as conn:
        done = await requeue(conn, request.app[CLOCK].now_ms())
    answer: dict[str, Any] = {
        "recordIds.size": len(done.names),
        "sampleIds": done.names[:_REQUEUE_SAMPLE],
    }
    answer.update({f"error.{name}": why for name, why in done.errors.items()})
    return rq.json_response(answer)


def routes() -> list[web.RouteDef]:
    base = "/api/scheduler"
    return [
        web.post(f"{base}/schedules", save),
        web.get(f"{base}/schedules", list_schedules),
        # Before /schedules/{name}, which would take `search` for a schedule's name.
        web.get(f"{base}/schedules/search", search_schedules),
        web.get(f"{base}/schedules/{{name}}", get_schedule),
        web.delete(f"{base}/schedules/{{name}}", delete_schedule),
        web.put(f"{base}/schedules/{{name}}/pause", pause),
        web.get(f"{base}/schedules/{{name}}/pause", pause),
        web.put(f"{base}/schedules/{{name}}/resume", resume),
        web.get(f"{base}/schedules/{{name}}/resume", resume),
        web.get(f"{base}/nextFewSchedules", next_few),
        web.get(f"{base}/search/executions", executions),
        web.put(f"{base}/bulk/pause", bulk_pause),
        web.put(f"{base}/bulk/resume", bulk_resume),
        web.get(f"{base}/admin/pause", pause_scheduler),
        web.get(f"{base}/admin/resume", resume_scheduler),
        web.get(f"{base}/admin/requeue", requeue_schedules),
    ]
