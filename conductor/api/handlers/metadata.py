"""/api/metadata: task and workflow definitions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.definitions_check import check_workflow_def
from conductor.api.keys import CLOCK, EXECUTOR, POOL
from conductor.api.permissions import requires
from conductor.engine.templates import java_string
from conductor.engine.validation import ValidationError, validate_task_def
from conductor.errors import Conflict, FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.store import definitions as store
from conductor.wire import numbers
from conductor.wire.render import task_def_json


def _raise_if(errors: list[ValidationError]) -> None:
    if errors:
        raise ValidationFailed([FieldError(e.path, e.message, e.invalid_value) for e in errors])


def _normalise_workflow_def(body: dict[str, Any]) -> dict[str, Any]:
    definition = {k: v for k, v in body.items() if k not in ("createTime", "updateTime")}
    numbers.workflow_def(definition)
    definition.setdefault("version", 1)
    definition.setdefault("schemaVersion", 2)
    return definition


@requires(Permission.OPERATE, audited=True)
async def register_task_defs(request: web.Request) -> web.Response:
    defs = await rq.json_list(request, "taskDefinitions")
    if not defs:
        raise ValidationFailed(
            [FieldError("registerTaskDef.taskDefinitions", "TaskDefList cannot be empty")]
        )
    errors: list[ValidationError] = []
    for i, task_def in enumerate(defs):
        numbers.task_def(task_def)
        errors.extend(validate_task_def(task_def, f"registerTaskDef.taskDefinitions[{i}]"))
    _raise_if(errors)
    async with request.app[POOL].acquire() as conn:
        await store.upsert_task_defs(
            conn, [_strip_times(d) for d in defs], request.app[CLOCK].now_ms()
        )
    request.app[EXECUTOR].limits.forget()
    return rq.empty()


def _strip_times(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("createTime", "updateTime")}


@requires(Permission.OPERATE, audited=True)
async def update_task_def(request: web.Request) -> web.Response:
    task_def = numbers.task_def(await rq.json_object(request, "taskDef"))
    _raise_if(validate_task_def(task_def, "updateTaskDef.taskDef"))
    async with request.app[POOL].acquire() as conn:
        if not await store.update_task_def(
            conn, _strip_times(task_def), request.app[CLOCK].now_ms()
        ):
            raise NotFound(f"No such taskType found by name: {task_def['name']}")
    request.app[EXECUTOR].limits.forget(str(task_def["name"]))
    return rq.empty()


@requires(Permission.READ)
async def list_task_defs(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        defs = await store.list_task_defs(conn)
    return rq.json_response([task_def_json(d) for d in defs])


@requires(Permission.READ)
async def get_task_def(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        task_def = await store.get_task_def(conn, name)
    if task_def is None:
        raise NotFound(f"No such taskType found by name: {name}")
    return rq.json_response(task_def_json(task_def))


@requires(Permission.OPERATE, audited=True)
async def delete_task_def(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        if not await store.delete_task_def(conn, name):
            raise NotFound(f"No such taskType found by name: {name}")
    request.app[EXECUTOR].limits.forget(name)
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def create_workflow_def(request: web.Request) -> web.Response:
    overwrite = rq.query_bool(request, "overwrite", False)
    definition = _normalise_workflow_def(await rq.json_object(request, "workflowDef"))
    await check_workflow_def(request.app, definition, "registerWorkflowDef.workflowDef")
    now = request.app[CLOCK].now_ms()
    async with request.app[POOL].acquire() as conn:
        if overwrite:
            await store.upsert_workflow_def(conn, definition, now)
        elif not await store.insert_workflow_def(conn, definition, now):
            raise Conflict(
                f"Workflow with {definition['name']}.{definition['version']} already exists!"
            )
    return rq.empty()


@requires(Permission.READ)
async def validate_workflow(request: web.Request) -> web.Response:
    definition = _normalise_workflow_def(await rq.json_object(request, "workflowDef"))
    await check_workflow_def(request.app, definition, "validateWorkflowDef.workflowDef")
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def upsert_workflow_defs(request: web.Request) -> web.Response:
    defs = await rq.json_list(request, "workflowDefs")
    normalised: list[dict[str, Any]] = []
    errors: list[ValidationError] = []
    for i, body in enumerate(defs):
        if not isinstance(body, dict):
            errors.append(
                ValidationError(f"updateWorkflowDefs.workflowDefs[{i}]", "must be an object")
            )
            continue
        normalised.append(_normalise_workflow_def(body))
    _raise_if(errors)
    for i, definition in enumerate(normalised):
        await check_workflow_def(request.app, definition, f"updateWorkflowDefs.workflowDefs[{i}]")
    now = request.app[CLOCK].now_ms()
    async with request.app[POOL].acquire() as conn, conn.transaction():
        for definition in normalised:
            await store.upsert_workflow_def(conn, definition, now)
    return rq.json_response(
        {"bulkErrorResults": {}, "bulkSuccessfulResults": [d["name"] for d in normalised]}
    )


@requires(Permission.READ)
async def get_workflow_def(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    version = rq.query_int(request, "version", None, bits=32)
    async with request.app[POOL].acquire() as conn:
        definition = await store.get_workflow_def(conn, name, version)
    if definition is None:
        raise NotFound(f"No such workflow found by name: {name}, version: {java_string(version)}")
    return rq.json_response(definition)


@requires(Permission.READ)
async def list_workflow_defs(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        return rq.json_response(await store.list_workflow_defs(conn))


@requires(Permission.READ)
async def latest_workflow_defs(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        return rq.json_response(await store.list_workflow_defs(conn, latest_only=True))


def _def_summary(definition: dict[str, Any]) -> dict[str, Any]:
    """Conductor's WorkflowDefSummary: a version without its body."""
    return {k: definition.get(k) for k in ("name", "version", "createTime", "updateTime")}


@requires(Permission.READ)
async def names_and_versions(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        defs = await store.list_workflow_defs(conn)
    out: dict[str, list[dict[str, Any]]] = {}
    for d in defs:
        out.setdefault(d["name"], []).append(_def_summary(d))
    return rq.json_response(out)


@requires(Permission.READ)
async def workflow_names(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        latest = await store.list_workflow_defs(conn, latest_only=True)
    return rq.json_response(sorted({str(d["name"]) for d in latest}))


@requires(Permission.READ)
async def workflow_versions(request: web.Request) -> web.Response:
    """A name's versions, oldest first; an unknown name has none (an empty list, as Conductor)."""
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        defs = [d for d in await store.list_workflow_defs(conn) if d.get("name") == name]
    defs.sort(key=lambda d: int(d.get("version") or 0))
    return rq.json_response([_def_summary(d) for d in defs])


@requires(Permission.OPERATE, audited=True)
async def delete_workflow_def(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    version = rq.path_int(request, "version", bits=32)
    async with request.app[POOL].acquire() as conn:
        if not await store.delete_workflow_def(conn, name, version):
            raise NotFound(f"No such workflow found by name: {name}, version: {version}")
    return rq.empty()


def routes() -> list[web.RouteDef]:
    base = "/api/metadata"
    return [
        web.post(f"{base}/taskdefs", register_task_defs),
        web.put(f"{base}/taskdefs", update_task_def),
        web.get(f"{base}/taskdefs", list_task_defs),
        web.get(f"{base}/taskdefs/{{name}}", get_task_def),
        web.delete(f"{base}/taskdefs/{{name}}", delete_task_def),
        web.post(f"{base}/workflow/validate", validate_workflow),
        web.post(f"{base}/workflow", create_workflow_def),
        web.put(f"{base}/workflow", upsert_workflow_defs),
        web.get(f"{base}/workflow", list_workflow_defs),
        web.get(f"{base}/workflow/names-and-versions", names_and_versions),
        web.get(f"{base}/workflow/latest-versions", latest_workflow_defs),
        web.get(f"{base}/workflow/names", workflow_names),
        web.get(f"{base}/workflow/{{name}}/versions", workflow_versions),
        web.get(f"{base}/workflow/{{name}}", get_workflow_def),
        web.delete(f"{base}/workflow/{{name}}/{{version}}", delete_workflow_def),
    ]
