"""The UI's pages: executions search and one execution. Each reads through the same store and
search code as the REST API; every action a page offers is a call of that API."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from conductor.api.auth import csrf_token_of, principal_of
from conductor.api.keys import CLOCK, KEYRING, POLLER, POOL, WORKFLOWS
from conductor.api.middleware import Handler
from conductor.api.permissions import requires
from conductor.errors import BadRequest
from conductor.roles import Permission
from conductor.store import definitions as definition_store
from conductor.store import search as search_store
from conductor.store import tasks as task_store
from conductor.ui.diagram import render_execution
from conductor.ui.search_filters import (
    PAGE_SIZES,
    SORTABLE,
    STATUSES,
    TASK_STATUSES,
    read_filters,
    read_task_filters,
    search_request,
    task_search_request,
)
from conductor.wire.render import workflow_json
from conductor.wire.summaries import task_summary, workflow_summary


def page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page, with what every page's frame shows: who is signed in, and the CSRF token."""
    context = {
        "principal": principal_of(request),
        "auth_on": request.app[KEYRING].enabled,
        "csrf_token": csrf_token_of(request),
        "path": request.path,
        **values,
    }
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def reading_page(handler: Handler) -> Handler:
    """A page that shows the server's data. Public as a route, so that a browser without a
    session is sent to sign in rather than answered 401; then shown only to roles that read."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        principal = principal_of(request)
        if principal is None:
            raise web.HTTPFound("/login")
        if not principal.may(Permission.READ):
            return page(request, "no_access.html", 403)
        return await handler(request)

    return requires(Permission.PUBLIC)(guarded)


@reading_page
async def home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/executions")


@reading_page
async def executions(request: web.Request) -> web.StreamResponse:
    filters = read_filters(request.query)
    results: list[dict[str, Any]] = []
    total = 0
    problems = list(filters.problems)
    try:
        found = await request.app[WORKFLOWS].search(
            search_request(filters, request.app[CLOCK].now_ms())
        )
        results = [workflow_summary(state) for state in found.items]
        total = found.total
    except BadRequest as exc:
        problems.append(exc.message)
    async with request.app[POOL].acquire() as conn:
        latest = await definition_store.list_workflow_defs(conn, latest_only=True)
    names = sorted({str(d["name"]) for d in latest})
    return page(
        request,
        "executions.html",
        filters=filters,
        results=results,
        total=total,
        problems=problems,
        names=names,
        statuses=STATUSES,
        page_sizes=PAGE_SIZES,
        sortable=SORTABLE,
        bulk_actions=BULK_ACTIONS if _may_operate(request) else [],
    )


@reading_page
async def task_search(request: web.Request) -> web.StreamResponse:
    """Tasks across executions ("the FAILED tasks of type X in the last hour")."""
    filters = read_task_filters(request.query)
    results: list[dict[str, Any]] = []
    total, problems = 0, []
    try:
        async with request.app[POOL].acquire() as conn:
            found = await search_store.tasks(
                conn, task_search_request(filters, request.app[CLOCK].now_ms())
            )
        results = [task_summary(stored) for stored in found.items]
        total = found.total
    except BadRequest as exc:
        problems.append(exc.message)
    return page(
        request,
        "task_search.html",
        filters=filters,
        results=results,
        total=total,
        problems=problems,
        statuses=TASK_STATUSES,
        page_sizes=PAGE_SIZES,
    )


@reading_page
async def task_queues(request: web.Request) -> web.StreamResponse:
    """Queue depth and the last poll per queue: is anyone polling?"""
    await request.app[POLLER].flush_poll_data()
    async with request.app[POOL].acquire() as conn:
        sizes = await task_store.all_queue_sizes(conn)
        polls = await task_store.poll_data(conn, None)
    last_poll = {poll.queue_name: poll for poll in polls}
    queues = [
        {"name": name, "size": sizes.get(name, 0), "poll": last_poll.get(name)}
        for name in sorted(set(sizes) | set(last_poll))
    ]
    return page(request, "task_queues.html", queues=queues, now=request.app[CLOCK].now_ms())


@reading_page
async def execution(request: web.Request) -> web.StreamResponse:
    return await _execution(request, live=False)


async def _execution(request: web.Request, live: bool) -> web.StreamResponse:
    principal = principal_of(request)
    assert principal is not None
    workflow_id = request.match_info["workflow_id"]
    # Read before the run: a change in between shows as a new mark at the next look.
    mark = await request.app[WORKFLOWS].change_mark(workflow_id)
    state = await request.app[WORKFLOWS].read(workflow_id)
    if state is None:
        return page(request, "not_found.html", 404, what=f"execution {workflow_id}")
    run = workflow_json(state)
    tasks: list[dict[str, Any]] = run.get("tasks") or []
    selected = _selected_task(tasks, request.query.get("task"))
    failed = next(
        (t for t in tasks if t.get("status") in _FAILED and t.get("reasonForIncompletion")), None
    )
    logs = []
    if selected is not None:
        async with request.app[POOL].acquire() as conn:
            logs = await task_store.logs(conn, selected["taskId"])
    diagram = render_execution(
        (state.definition or {}).get("tasks") or [],
        state,
        iterations=_iterations(request),
        title=f"{state.name} v{state.version}",
    )
    return page(
        request,
        "execution.html",
        run=run,
        diagram=Markup(diagram),  # built by conductor/ui/diagram, which escapes every text
        tasks=tasks,
        selected=selected,
        failed_task=failed,
        logs=logs,
        tab=request.query.get("tab", "diagram"),
        mark=mark,
        # What the page's task table shows, so that a live answer sends only the rows since.
        seen=max((int(t.get("updateTime") or 0) for t in tasks), default=0),
        last_seq=max((int(t.get("seq") or 0) for t in tasks), default=0),
        **_changed_rows(request, tasks) if live else {"changed": None},
        actions=_actions(run) if principal.may(Permission.OPERATE) else [],
    )


@reading_page
async def execution_changes(request: web.Request) -> web.StreamResponse:
    """The live part of an execution page, only when the run or a task changed since the page's
    mark (`since`): 204 otherwise, after one small query."""
    mark = await request.app[WORKFLOWS].change_mark(request.match_info["workflow_id"])
    if mark is None:
        raise web.HTTPNotFound()
    if mark == request.query.get("since"):
        return web.Response(status=204)
    return await _execution(request, live=True)


def _changed_rows(request: web.Request, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """For a live answer: the task rows updated since the page's newest (`seen`), and how many
    the page shows (`seq`); htmx swaps them into the kept table. Without both, every row."""
    seen, shown = request.query.get("seen", ""), request.query.get("seq", "")
    if not (seen.isdigit() and shown.isdigit()):
        return {"changed": None}
    changed = [
        t
        for t in tasks
        if int(t.get("updateTime") or 0) >= int(seen) or int(t.get("seq") or 0) > int(shown)
    ]
    return {"changed": changed, "shown_seq": int(shown)}


def _may_operate(request: web.Request) -> bool:
    principal = principal_of(request)
    return principal is not None and principal.may(Permission.OPERATE)


@dataclass(frozen=True)
class Action:
    """A button on a page: one call of the REST API, made by the page's script. `confirm` is the
    question asked first (for bulk actions, its verb: the count is added by the script)."""

    label: str
    method: str
    path: str
    confirm: str
    reason: bool = False  # asks for a reason (terminate)


# The executions page's bulk actions: the bulk REST API, with the selected ids as the body.
BULK_ACTIONS = [
    Action("Pause", "PUT", "/api/workflow/bulk/pause", "Pause"),
    Action("Resume", "PUT", "/api/workflow/bulk/resume", "Resume"),
    Action("Retry", "POST", "/api/workflow/bulk/retry", "Retry"),
    Action("Restart", "POST", "/api/workflow/bulk/restart", "Restart"),
    Action(
        "Restart with the latest definition",
        "POST",
        "/api/workflow/bulk/restart?useLatestDefinitions=true",
        "Restart, with the latest definition,",
    ),
    Action("Terminate", "POST", "/api/workflow/bulk/terminate", "Terminate", reason=True),
]


def _actions(run: dict[str, Any]) -> list[Action]:
    """What may be done to a run in its status, as Conductor's UI offers it."""
    base = f"/api/workflow/{quote(str(run['workflowId']), safe='')}"
    name = run.get("workflowName", "")
    terminate = Action("Terminate", "DELETE", base, f"Terminate {name}?", reason=True)
    restart = [
        Action("Restart", "POST", f"{base}/restart", f"Restart {name} from the beginning?"),
        Action(
            "Restart with the latest definition",
            "POST",
            f"{base}/restart?useLatestDefinitions=true",
            f"Restart {name} with the latest version of its definition?",
        ),
    ]
    retry = Action("Retry", "POST", f"{base}/retry", f"Retry {name} from its failed task?")
    by_status = {
        "RUNNING": [Action("Pause", "PUT", f"{base}/pause", f"Pause {name}?"), terminate],
        "PAUSED": [Action("Resume", "PUT", f"{base}/resume", f"Resume {name}?"), terminate],
        "FAILED": [retry, *restart],
        "TIMED_OUT": [retry, *restart],
        "TERMINATED": [retry, *restart],
        "COMPLETED": restart,
    }
    return by_status.get(str(run.get("status")), [])


def _iterations(request: web.Request) -> dict[str, int]:
    """The DO_WHILE iteration a page asks to see (`?loop=REF&iteration=N`)."""
    loop, iteration = request.query.get("loop"), request.query.get("iteration", "")
    if not loop or not iteration.isdigit():
        return {}
    return {loop: int(iteration)}


_FAILED = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})


def _selected_task(tasks: list[dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    """The task named by `?task=` (a task id, or a reference name for its latest attempt)."""
    if not key:
        return None
    by_ref = [t for t in tasks if t.get("referenceTaskName") == key]
    return next((t for t in tasks if t.get("taskId") == key), by_ref[-1] if by_ref else None)
