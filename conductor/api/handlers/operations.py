"""Operator actions on workflows: /api/workflow/{id}/pause, resume, skiptask, resetcallbacks,
restart, retry, rerun, terminate-remove, and the bulk forms under /api/workflow/bulk (with bulk
search, several workflows by id).

Each action is one transition of the workflow (engine/operations.py decides and refuses); a bulk
request applies it to each id in turn and reports per id, as Conductor's BulkResponse does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.audit_marks import touches
from conductor.api.keys import EXECUTOR, POOL, WORKFLOWS
from conductor.api.permissions import requires
from conductor.engine.inputs import (
    Input,
    PauseWorkflow,
    RerunWorkflow,
    ResetCallbacks,
    RestartWorkflow,
    ResumeWorkflow,
    RetryWorkflow,
    SkipTask,
    TerminateWorkflow,
)
from conductor.errors import ConductorError, FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.wire.render import workflow_json

MAX_BULK_IDS = 1000

# One action on one workflow id; raises a ConductorError when refused.
Action = Callable[[web.Application, str], Awaitable[None]]


async def _transition(app: web.Application, workflow_id: str, event: Input) -> None:
    await app[EXECUTOR].transition(workflow_id, event)


def _event_action(event: Input) -> Action:
    async def act(app: web.Application, workflow_id: str) -> None:
        await _transition(app, workflow_id, event)

    return act


def _restart_action(use_latest: bool) -> Action:
    async def act(app: web.Application, workflow_id: str) -> None:
        definition = await app[EXECUTOR].latest_definition(workflow_id) if use_latest else None
        await _transition(app, workflow_id, RestartWorkflow(definition))

    return act


async def _remove(app: web.Application, workflow_id: str) -> None:
    if not await app[WORKFLOWS].remove(workflow_id):
        raise NotFound(f"Workflow with id: {workflow_id} not found.")


def _terminate_remove_action(reason: str | None) -> Action:
    async def act(app: web.Application, workflow_id: str) -> None:
        await _transition(app, workflow_id, TerminateWorkflow(reason))
        await _remove(app, workflow_id)

    return act


# -- one workflow -------------------------------------------------------------------------------


@requires(Permission.OPERATE, audited=True)
async def pause(request: web.Request) -> web.Response:
    await _transition(request.app, request.match_info["workflow_id"], PauseWorkflow())
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def resume(request: web.Request) -> web.Response:
    await _transition(request.app, request.match_info["workflow_id"], ResumeWorkflow())
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def skip_task(request: web.Request) -> web.Response:
    # Conductor binds SkipTaskRequest from the query string, which the Python SDK fills with an
    # unparseable repr; a JSON body with taskInput/taskOutput is honoured when sent.
    body = await rq.json_body(request, required=False)
    body = body if isinstance(body, dict) else {}
    rq.check_type(body, "taskInput", dict, "skipTaskRequest")
    rq.check_type(body, "taskOutput", dict, "skipTaskRequest")
    event = SkipTask(
        request.match_info["task_reference_name"], body.get("taskInput"), body.get("taskOutput")
    )
    await _transition(request.app, request.match_info["workflow_id"], event)
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def reset_callbacks(request: web.Request) -> web.Response:
    await _transition(request.app, request.match_info["workflow_id"], ResetCallbacks())
    return rq.empty(204)


@requires(Permission.OPERATE, audited=True)
async def restart(request: web.Request) -> web.Response:
    use_latest = rq.query_bool(request, "useLatestDefinitions", False)
    await _restart_action(use_latest)(request.app, request.match_info["workflow_id"])
    return rq.empty(204)


@requires(Permission.OPERATE, audited=True)
async def retry(request: web.Request) -> web.Response:
    workflow_id: str | None = request.match_info["workflow_id"]
    if rq.query_bool(request, "resumeSubworkflowTasks", False):
        # Retry the failed child in place (its parents revive) instead of a fresh child.
        workflow_id = await request.app[EXECUTOR].run_to_resume(str(workflow_id))
        if workflow_id is not None:
            touches(request, [request.match_info["workflow_id"], workflow_id])
    if workflow_id is not None:
        await _transition(request.app, workflow_id, RetryWorkflow())
    return rq.empty(204)


@requires(Permission.OPERATE, audited=True)
async def rerun(request: web.Request) -> web.Response:
    workflow_id = request.match_info["workflow_id"]
    body = await rq.json_object(request, "rerunWorkflowRequest", required=False)
    path = "rerunWorkflowRequest"
    rq.check_type(body, "reRunFromTaskId", str, path)
    rq.check_type(body, "taskInput", dict, path)
    rq.check_type(body, "workflowInput", dict, path)
    rq.check_type(body, "correlationId", str, path)
    event = RerunWorkflow(
        from_task_id=body.get("reRunFromTaskId"),
        task_input=body.get("taskInput"),
        workflow_input=body.get("workflowInput"),
        correlation_id=body.get("correlationId"),
    )
    await _transition(request.app, workflow_id, event)
    return rq.text(workflow_id)


@requires(Permission.OPERATE, audited=True)
async def terminate_remove(request: web.Request) -> web.Response:
    reason = rq.query_str(request, "reason")
    await _terminate_remove_action(reason)(request.app, request.match_info["workflow_id"])
    return rq.empty()


# -- bulk ---------------------------------------------------------------------------------------


async def _bulk(request: web.Request, action: Action) -> web.Response:
    ids = await _bulk_ids(request)
    touches(request, ids)
    succeeded: list[str] = []
    failed: dict[str, str] = {}
    for workflow_id in ids:
        try:
            await action(request.app, workflow_id)
        except ConductorError as exc:
            failed[workflow_id] = exc.message
        else:
            succeeded.append(workflow_id)
    return rq.json_response({"bulkErrorResults": failed, "bulkSuccessfulResults": succeeded})


async def _bulk_ids(request: web.Request) -> list[str]:
    body: Any = await rq.json_body(request, required=False)
    if not body:
        raise ValidationFailed([FieldError("workflowIds", "WorkflowIds list cannot be null.")])
    if not isinstance(body, list) or not all(isinstance(i, str) and i for i in body):
        raise ValidationFailed(
            [FieldError("workflowIds", "must be a JSON array of workflow ids", body)]
        )
    if len(body) > MAX_BULK_IDS:
        raise ValidationFailed(
            [
                FieldError(
                    "workflowIds",
                    f"Cannot process more than {MAX_BULK_IDS} workflows. "
                    "Please use multiple requests.",
                )
            ]
        )
    return list(dict.fromkeys(body))


@requires(Permission.OPERATE, audited=True)
async def bulk_pause(request: web.Request) -> web.Response:
    return await _bulk(request, _event_action(PauseWorkflow()))


@requires(Permission.OPERATE, audited=True)
async def bulk_resume(request: web.Request) -> web.Response:
    return await _bulk(request, _event_action(ResumeWorkflow()))


@requires(Permission.OPERATE, audited=True)
async def bulk_restart(request: web.Request) -> web.Response:
    use_latest = rq.query_bool(request, "useLatestDefinitions", False)
    return await _bulk(request, _restart_action(use_latest))


@requires(Permission.OPERATE, audited=True)
async def bulk_retry(request: web.Request) -> web.Response:
    return await _bulk(request, _event_action(RetryWorkflow()))


@requires(Permission.OPERATE, audited=True)
async def bulk_terminate(request: web.Request) -> web.Response:
    reason = rq.query_str(request, "reason")
    trigger = rq.query_bool(request, "triggerFailureWorkflow", False)
    return await _bulk(request, _event_action(TerminateWorkflow(reason, trigger)))


@requires(Permission.OPERATE, audited=True)
async def bulk_remove(request: web.Request) -> web.Response:
    return await _bulk(request, _remove)


@requires(Permission.OPERATE, audited=True)
async def bulk_terminate_remove(request: web.Request) -> web.Response:
    return await _bulk(request, _terminate_remove_action(rq.query_str(request, "reason")))


@requires(Permission.READ)
async def bulk_search(request: web.Request) -> web.Response:
    """Several workflows by id (Conductor's bulk search): the found ones, and an error per
    missing id."""
    ids = await _bulk_ids(request)
    include_tasks = rq.query_bool(request, "includeTasks", True)
    store = request.app[WORKFLOWS]
    found: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    async with request.app[POOL].acquire() as conn:
        for workflow_id in ids:
            state = await store.get(conn, workflow_id, include_tasks=include_tasks)
            if state is None:
                failed[workflow_id] = f"Workflow with id: {workflow_id} not found."
            else:
                found.append(workflow_json(state, include_tasks))
    return rq.json_response({"bulkErrorResults": failed, "bulkSuccessfulResults": found})


def routes() -> list[web.RouteDef]:
    """Registered before the generic /api/workflow/{id} routes, so `bulk` is never an id."""
    bulk = "/api/workflow/bulk"
    one = "/api/workflow/{workflow_id}"
    return [
        web.put(f"{bulk}/pause", bulk_pause),
        web.put(f"{bulk}/resume", bulk_resume),
        web.post(f"{bulk}/restart", bulk_restart),
        web.post(f"{bulk}/retry", bulk_retry),
        web.post(f"{bulk}/terminate", bulk_terminate),
        web.delete(f"{bulk}/remove", bulk_remove),
        web.delete(f"{bulk}/terminate-remove", bulk_terminate_remove),
        web.post(f"{bulk}/search", bulk_search),
        web.put(f"{one}/pause", pause),
        web.put(f"{one}/resume", resume),
        web.put(f"{one}/skiptask/{{task_reference_name}}", skip_task),
        web.post(f"{one}/resetcallbacks", reset_callbacks),
        web.post(f"{one}/restart", restart),
        web.post(f"{one}/retry", retry),
        web.post(f"{one}/rerun", rerun),
        web.delete(f"{one}/terminate-remove", terminate_remove),
    ]
