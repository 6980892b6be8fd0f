"""/api/workflow: start (async and sync), read, correlate, terminate, remove."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from conductor.api import blocking
from conductor.api import requests as rq
from conductor.api.definitions_check import check_workflow_def
from conductor.api.keys import ADMISSION, EXECUTOR, POOL, STARTS, WORKFLOWS
from conductor.api.permissions import requires
from conductor.engine.inputs import Reevaluate, TerminateWorkflow
from conductor.engine.model import WorkflowState
from conductor.errors import FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.wire import numbers
from conductor.wire.render import workflow_json, workflow_status_json
from conductor.wire.start_request import IDEMPOTENCY_STRATEGIES, StartRequest, start_request


async def parse_start_request(
    app: web.Application, body: dict[str, Any], name: str | None = None
) -> StartRequest:
    path = "startWorkflowRequest"
    numbers.start_request(body)
    rq.check_type(body, "name", str, path)
    rq.check_type(body, "version", int, path)
    rq.check_type(body, "correlationId", str, path)
    rq.check_type(body, "input", dict, path)
    rq.check_type(body, "taskToDomain", dict, path)
    rq.check_type(body, "workflowDef", dict, path)
    rq.check_type(body, "priority", int, path)
    rq.check_type(body, "idempotencyKey", str, path)
    strategy = body.get("idempotencyStrategy") or "FAIL"
    if strategy not in IDEMPOTENCY_STRATEGIES:
        raise ValidationFailed(
            [
                FieldError(
                    f"{path}.idempotencyStrategy",
                    f"must be one of {', '.join(IDEMPOTENCY_STRATEGIES)}",
                    strategy,
                )
            ]
        )
    workflow_name = name or body.get("name")
    inline = body.get("workflowDef")
    if not workflow_name and isinstance(inline, dict):
        workflow_name = inline.get("name")
    if not workflow_name:
        raise ValidationFailed(
            [FieldError(f"{path}.name", "Workflow name cannot be null or empty")]
        )
    priority = body.get("priority") or 0
    if not 0 <= priority <= 99:
        raise ValidationFailed(
            [FieldError(f"{path}.priority", "priority: should be between 0 and 99", priority)]
        )
    if isinstance(inline, dict):
        inline = dict(inline)
        inline.setdefault("name", workflow_name)
        inline.setdefault("version", 1)
        inline.setdefault("schemaVersion", 2)
        await check_workflow_def(app, inline, f"{path}.workflowDef")
    return start_request({**body, "name": workflow_name, "workflowDef": inline})


@requires(Permission.OPERATE)
async def start_workflow(request: web.Request) -> web.Response:
    body = await rq.json_object(request, "startWorkflowRequest")
    start = await parse_start_request(request.app, body)
    async with request.app[ADMISSION].slot():
        state = await request.app[STARTS].start(start)
    return rq.text(state.workflow_id)


@requires(Permission.OPERATE)
async def start_workflow_by_name(request: web.Request) -> web.Response:
    body = await rq.json_object(request, "input", required=False)
    start = start_request(
        {
            "name": request.match_info["name"],
            "version": rq.query_int(request, "version", None, bits=32),
            "input": body,
            "correlationId": rq.query_str(request, "correlationId"),
            "priority": rq.query_int(request, "priority", 0, minimum=0),
        }
    )
    async with request.app[ADMISSION].slot():
        state = await request.app[STARTS].start(start)
    return rq.text(state.workflow_id)


@requires(Permission.OPERATE)
async def execute_workflow(request: web.Request) -> web.Response:
    """Start, then hold the request until the run ends or blocks (a WAIT only an update ends, or
    a task named in waitUntilTaskRef ends), or time runs out; answer per `returnStrategy`."""
    name = request.match_info["name"]
    version = rq.path_int(request, "version", bits=32)
    strategy = blocking.return_strategy(request)
    body = await rq.json_object(request, "startWorkflowRequest")
    body["version"] = version or body.get("version")
    start = await parse_start_request(request.app, body, name)
    request_id = rq.query_str(request, "requestId") or str(uuid.uuid4())
    refs = {
        r.strip() for r in (rq.query_str(request, "waitUntilTaskRef") or "").split(",") if r.strip()
    }
    wait_s = rq.query_int(request, "waitForSeconds", 10, minimum=0) or 10
    async with request.app[ADMISSION].slot():
        state = await request.app[STARTS].start(start)
    settled = await blocking.await_settled(request.app, state.workflow_id, refs, wait_s)
    return rq.json_response(blocking.signal_response(strategy, settled, request_id))


async def _load(request: web.Request, workflow_id: str, include_tasks: bool) -> WorkflowState:
    state = await request.app[WORKFLOWS].read(workflow_id, include_tasks)
    if state is None:
        raise NotFound(f"Workflow with id: {workflow_id} not found.")
    return state


@requires(Permission.READ)
async def get_workflow(request: web.Request) -> web.Response:
    include_tasks = rq.query_bool(request, "includeTasks", True)
    state = await _load(request, request.match_info["workflow_id"], include_tasks)
    return rq.json_response(workflow_json(state, include_tasks))


@requires(Permission.READ)
async def running(request: web.Request) -> web.Response:
    """GET /api/workflow/running/{name}: ids of the runs of a version (default 1, as Conductor)
    not yet ended; with both startTime and endTime (epoch ms, non-zero), every run of that
    version started between them."""
    version = rq.query_int(request, "version", 1, bits=32) or 1
    start = rq.query_int(request, "startTime", None)
    end = rq.query_int(request, "endTime", None)
    window = (start, end) if start and end else None
    async with request.app[POOL].acquire() as conn:
        ids = await request.app[WORKFLOWS].running_ids(
            conn, request.match_info["name"], version, window
        )
    return rq.json_response(ids)


@requires(Permission.READ)
async def get_tasks(request: web.Request) -> web.Response:
    """A page of a run's tasks, optionally of some statuses, as Conductor's SearchResult."""
    start = rq.query_int(request, "start", 0, minimum=0) or 0
    count = rq.query_int(request, "count", 15, minimum=0) or 0
    # Repeated or comma-separated, in any case, as Spring binds a List<String> parameter.
    wanted = {
        status.strip().upper()
        for given in request.query.getall("status", ())
        for status in given.split(",")
        if status.strip()
    }
    state = await _load(request, request.match_info["workflow_id"], include_tasks=True)
    tasks = workflow_json(state)["tasks"]
    chosen = [task for task in tasks if not wanted or task["status"] in wanted]
    return rq.json_response({"totalHits": len(chosen), "results": chosen[start : start + count]})


@requires(Permission.READ)
async def get_status(request: web.Request) -> web.Response:
    state = await _load(request, request.match_info["workflow_id"], include_tasks=False)
    return rq.json_response(
        workflow_status_json(
            state,
            rq.query_bool(request, "includeOutput", False),
            rq.query_bool(request, "includeVariables", False),
        )
    )


@requires(Permission.READ)
async def correlated(request: web.Request) -> web.Response:
    include_closed = rq.query_bool(request, "includeClosed", False)
    include_tasks = rq.query_bool(request, "includeTasks", False)
    async with request.app[POOL].acquire() as conn:
        found = await request.app[WORKFLOWS].by_correlation(
            conn,
            request.match_info["name"],
            request.match_info["correlation_id"],
            include_closed,
            include_tasks,
        )
    return rq.json_response([workflow_json(s, include_tasks) for s in found])


@requires(Permission.READ)
async def correlated_many(request: web.Request) -> web.Response:
    ids = await rq.json_list(request, "correlationIds")
    if not all(isinstance(i, str) for i in ids):
        raise ValidationFailed([FieldError("correlationIds", "correlation ids must be strings")])
    include_closed = rq.query_bool(request, "includeClosed", False)
    include_tasks = rq.query_bool(request, "includeTasks", False)
    out: dict[str, list[dict[str, Any]]] = {}
    async with request.app[POOL].acquire() as conn:
        for correlation_id in ids:
            found = await request.app[WORKFLOWS].by_correlation(
                conn, request.match_info["name"], correlation_id, include_closed, include_tasks
            )
            out[correlation_id] = [workflow_json(s, include_tasks) for s in found]
    return rq.json_response(out)


@requires(Permission.OPERATE, audited=True)
async def terminate(request: web.Request) -> web.Response:
    reason = rq.query_str(request, "reason")
    trigger = rq.query_bool(request, "triggerFailureWorkflow", False)
    await request.app[EXECUTOR].transition(
        request.match_info["workflow_id"], TerminateWorkflow(reason, trigger)
    )
    return rq.empty()


@requires(Permission.OPERATE)
async def decide_now(request: web.Request) -> web.Response:
    await request.app[EXECUTOR].transition(request.match_info["workflow_id"], Reevaluate())
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def remove(request: web.Request) -> web.Response:
    workflow_id = request.match_info["workflow_id"]
    if not await request.app[WORKFLOWS].remove(workflow_id):
        raise NotFound(f"Workflow with id: {workflow_id} not found.")
    return rq.empty()


def routes() -> list[web.RouteDef]:
    base = "/api/workflow"
    return [
        web.post(base, start_workflow),
        web.post(f"{base}/execute/{{name}}/{{version}}", execute_workflow),
        web.put(f"{base}/decide/{{workflow_id}}", decide_now),
        web.get(f"{base}/running/{{name}}", running),
        web.get(f"{base}/{{name}}/correlated/{{correlation_id}}", correlated),
        web.post(f"{base}/{{name}}/correlated", correlated_many),
        web.get(f"{base}/{{workflow_id}}/status", get_status),
        web.get(f"{base}/{{workflow_id}}/tasks", get_tasks),
        web.delete(f"{base}/{{workflow_id}}/remove", remove),
        web.get(f"{base}/{{workflow_id}}", get_workflow),
        web.delete(f"{base}/{{workflow_id}}", terminate),
        web.post(f"{base}/{{name}}", start_workflow_by_name),
    ]
