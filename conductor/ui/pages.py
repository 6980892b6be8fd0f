"""The UI's pages: executions search and one execution. Each reads through the same store and
search code as the REST API; every action a page offers is a call of that API."""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from conductor.api.auth import principal_of
from conductor.api.keys import AUDIT, CLOCK, POOL, WORKFLOWS
from conductor.engine.model import WorkflowState
from conductor.engine.task_tree import task_by_ref
from conductor.errors import BadRequest
from conductor.roles import Permission
from conductor.store import definitions as definition_store
from conductor.store import search as search_store
from conductor.store import tasks as task_store
from conductor.ui.actions import Action, task_actions, unreached_task_actions
from conductor.ui.diagram import render_execution
from conductor.ui.frame import may_operate, page, reading_page
from conductor.ui.page_links import ExecutionLinks, query_link
from conductor.ui.search_filters import (
    EXECUTION_COLUMNS,
    PAGE_SIZES,
    STATUSES,
    TASK_STATUSES,
    read_filters,
    read_task_filters,
    search_request,
    task_search_request,
)
from conductor.ui.task_list import STATUSES as LIST_STATUSES
from conductor.ui.task_list import task_page
from conductor.ui.timeline import render_timeline
from conductor.wire.render import workflow_json
from conductor.wire.summaries import task_summary, workflow_summary

log = logging.getLogger(__name__)


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
        columns=EXECUTION_COLUMNS,
        bulk_actions=BULK_ACTIONS if may_operate(request) else [],
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
async def execution(request: web.Request) -> web.StreamResponse:
    return await _execution(request, live=False)


async def _execution(request: web.Request, live: bool) -> web.StreamResponse:
    """The execution page, or (`live`) its live part as the page's next look asks for it."""
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
    query = request.query
    definition_tasks = (state.definition or {}).get("tasks") or []
    selected = _selected_task(tasks, query.get("task"))
    # A task of the definition not reached yet, opened from the diagram by its reference.
    unreached = None
    if selected is None and query.get("task") and task_by_ref(definition_tasks, query["task"]):
        unreached = query["task"]
    failed = next(
        (t for t in tasks if t.get("status") in _FAILED and t.get("reasonForIncompletion")), None
    )
    logs = []
    if selected is not None:
        async with request.app[POOL].acquire() as conn:
            logs = await task_store.logs(conn, selected["taskId"])
    # Who acted on this run is for those who act on runs (operators ask who terminated what);
    # the whole trail across runs stays the admins' (/api/admin/audit).
    may_audit = principal.may(Permission.OPERATE)
    tabs = _TABS if may_audit else [t for t in _TABS if t[0] != "audit"]
    tab = query.get("tab", "diagram")
    tab = tab if tab in dict(tabs) else "diagram"
    picture = _picture(tab, state, tasks, request)
    audit = await request.app[AUDIT].of_workflow(workflow_id) if tab == "audit" else []
    may_operate = principal.may(Permission.OPERATE)
    task_buttons: list[Action] = []
    if may_operate and selected is not None:
        task_buttons = task_actions(run, selected)
    elif may_operate and unreached is not None:
        task_buttons = unreached_task_actions(run, unreached)
    return page(
        request,
        "execution.html",
        run=run,
        picture=picture,
        tasks=tasks,
        task_list=task_page(tasks, query),
        list_statuses=LIST_STATUSES,
        selected=selected,
        unreached=unreached,
        attempts=_attempts(tasks, selected),
        failed_task=failed,
        logs=logs,
        tab=tab,
        tabs=tabs,
        audit=audit,
        mark=mark,
        live_answer=live,
        link=functools.partial(query_link, query),
        kept=[(k, v) for k, v in query.items() if k not in _NOT_KEPT_BY_FILTER],
        actions=_actions(run) if may_operate else [],
        task_actions=task_buttons,
    )


def _picture(
    tab: str, state: WorkflowState, tasks: list[dict[str, Any]], request: web.Request
) -> Markup:
    """The tab's drawing. A run the drawing code cannot handle costs that panel only: the rest
    of the page (failure, tasks, JSON, actions) is what the operator needs then."""
    try:
        # Built by conductor/ui/diagram and conductor/ui/timeline, which escape every text.
        if tab == "diagram":
            return Markup(
                render_execution(
                    (state.definition or {}).get("tasks") or [],
                    state,
                    iterations=_iterations(request),
                    links=ExecutionLinks(request.query),
                    title=f"{state.name} v{state.version}",
                )
            )
        if tab == "timeline":
            return Markup(render_timeline(tasks, request.app[CLOCK].now_ms()))
    except Exception:
        log.exception("drawing the %s of execution %s failed", tab, state.workflow_id)
        return Markup(
            '<p class="error" role="alert">This run could not be drawn (the server log says'
            " why). Its tasks, input, output and JSON are in the other tabs.</p>"
        )
    return Markup("")


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


_TABS = [
    ("diagram", "Diagram"),
    ("timeline", "Timeline"),
    ("tasks", "Tasks"),
    ("input", "Input / output"),
    ("json", "JSON"),
    ("audit", "Audit"),
]
_FAILED = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})
# The task filter's form sends these itself; a new filter starts at its first page.
_NOT_KEPT_BY_FILTER = frozenset({"since", "taskStatus", "taskPage"})


def _selected_task(tasks: list[dict[str, Any]], key: str | None) -> dict[str, Any] | None:
    """The task named by `?task=` (a task id, or a reference name for its latest attempt)."""
    if not key:
        return None
    by_ref = [t for t in tasks if t.get("referenceTaskName") == key]
    return next((t for t in tasks if t.get("taskId") == key), by_ref[-1] if by_ref else None)


def _attempts(tasks: list[dict[str, Any]], selected: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every attempt of the selected task's reference (its retries), first to last."""
    if selected is None:
        return []
    ref = selected.get("referenceTaskName")
    return sorted(
        (t for t in tasks if t.get("referenceTaskName") == ref), key=lambda t: t.get("seq") or 0
    )
