"""Search: /api/workflow/search, search-v2, search-by-tasks(-v2), /api/tasks/search(-v2) and
the admin view of a task type's in-progress tasks (/api/admin/task/{tasktype}).

Query, sort and freeText are parsed into values and checked against the allow-lists below
(conductor/search_query.py); the store turns them into parameterised SQL (store/search.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import POOL, WORKFLOWS
from conductor.api.permissions import requires
from conductor.engine.model import TaskStatus, WorkflowStatus
from conductor.errors import BadRequest
from conductor.roles import Permission
from conductor.search_query import (
    Condition,
    Field,
    Kind,
    SearchRequest,
    parse_query,
    parse_sort,
)
from conductor.store import search as store
from conductor.wire.render import stored_task_json, workflow_json
from conductor.wire.summaries import task_summary, workflow_summary

MAX_SIZE = 5000

_WORKFLOW_STATUSES = frozenset(s.value for s in WorkflowStatus)
_TASK_STATUSES = frozenset(s.value for s in TaskStatus)

WORKFLOW_FIELDS = {
    "workflowId": Field("workflow_id"),
    "correlationId": Field("correlation_id"),
    "workflowType": Field("name"),
    "workflowName": Field("name"),
    "version": Field("version", Kind.INT),
    "status": Field("status", choices=_WORKFLOW_STATUSES),
    "startTime": Field("create_time", Kind.INT),
    "createTime": Field("create_time", Kind.INT),
    "updateTime": Field("update_time", Kind.INT),
    "modifiedTime": Field("update_time", Kind.INT),
    "endTime": Field("end_time", Kind.INT),
    "parentWorkflowId": Field("parent_workflow_id"),
    "priority": Field("priority", Kind.INT),
    "idempotencyKey": Field("idempotency_key"),
}

TASK_FIELDS = {
    "taskId": Field("task_id"),
    "taskType": Field("task_type"),
    "taskDefName": Field("task_def_name"),
    "referenceTaskName": Field("ref_name"),
    "status": Field("status", choices=_TASK_STATUSES),
    "workflowId": Field("workflow_id"),
    "workflowType": Field("workflow_type"),
    "correlationId": Field("correlation_id"),
    "scheduledTime": Field("scheduled_time", Kind.INT),
    "startTime": Field("start_time", Kind.INT),
    "endTime": Field("end_time", Kind.INT),
    "updateTime": Field("update_time", Kind.INT),
    "workerId": Field("worker_id"),
}


def _search_request(
    request: web.Request, fields: dict[str, Field], sort_fields: dict[str, Field], by_tasks: bool
) -> SearchRequest:
    """The query string's search (400 for unknown fields, bad values or too large a page)."""
    start = rq.query_int(request, "start", 0, minimum=0) or 0
    size = rq.query_int(request, "size", 100, minimum=0)
    size = 100 if size is None else size
    if size > MAX_SIZE:
        raise BadRequest(f"Cannot return more than {MAX_SIZE} results. Please use pagination.")
    return SearchRequest(
        conditions=tuple(parse_query(rq.query_str(request, "query"), fields)),
        free_text=rq.query_str(request, "freeText"),
        sort=tuple(parse_sort(rq.query_str(request, "sort"), sort_fields)),
        start=start,
        size=size,
        by_tasks=by_tasks,
    )


def _workflow_search(
    by_tasks: bool, full: bool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(Permission.READ)
    async def handler(request: web.Request) -> web.Response:
        fields = TASK_FIELDS if by_tasks else WORKFLOW_FIELDS
        search = _search_request(request, fields, WORKFLOW_FIELDS, by_tasks)
        page = await request.app[WORKFLOWS].search(search)
        if full:
            results = [workflow_json(state, include_tasks=False) for state in page.items]
        else:
            results = [workflow_summary(state) for state in page.items]
        return rq.json_response({"totalHits": page.total, "results": results})

    return handler


def _task_search(full: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(Permission.READ)
    async def handler(request: web.Request) -> web.Response:
        search = _search_request(request, TASK_FIELDS, TASK_FIELDS, by_tasks=False)
        async with request.app[POOL].acquire() as conn:
            page = await store.tasks(conn, search)
        render = stored_task_json if full else task_summary
        results = [render(stored) for stored in page.items]
        return rq.json_response({"totalHits": page.total, "results": results})

    return handler


@requires(Permission.ADMIN)
async def pending_of_type(request: web.Request) -> web.Response:
    """/api/admin/task/{tasktype} (Conductor's AdminResource): the IN_PROGRESS tasks of a task
    definition, a page at a time, as full tasks."""
    start = rq.query_int(request, "start", 0, minimum=0) or 0
    count = rq.query_int(request, "count", 100, minimum=0) or 0
    if count > MAX_SIZE:
        raise BadRequest(f"Query parameter count must be at most {MAX_SIZE}")
    conditions = (
        Condition(TASK_FIELDS["taskDefName"].key, "IN", (request.match_info["task_type"],)),
        Condition(TASK_FIELDS["status"].key, "IN", (TaskStatus.IN_PROGRESS.value,)),
    )
    search = SearchRequest(conditions=conditions, start=start, size=count)
    async with request.app[POOL].acquire() as conn:
        page = await store.tasks(conn, search)
    return rq.json_response([stored_task_json(stored) for stored in page.items])


def routes() -> list[web.RouteDef]:
    """Registered before the generic /api/workflow/{id} routes."""
    return [
        web.get("/api/workflow/search", _workflow_search(by_tasks=False, full=False)),
        web.get("/api/workflow/search-v2", _workflow_search(by_tasks=False, full=True)),
        web.get("/api/workflow/search-by-tasks", _workflow_search(by_tasks=True, full=False)),
        web.get("/api/workflow/search-by-tasks-v2", _workflow_search(by_tasks=True, full=True)),
        web.get("/api/tasks/search", _task_search(full=False)),
        web.get("/api/tasks/search-v2", _task_search(full=True)),
        web.get("/api/admin/task/{task_type}", pending_of_type),
    ]
