"""/api/event: register, update, list and delete event handlers (Conductor's EventResource)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import POOL
from conductor.api.permissions import requires
from conductor.errors import Conflict, FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.services.event_processor import ACTIONS
from conductor.store import events as store


def check_handler(handler: dict[str, Any], path: str = "eventHandler") -> None:
    """Conductor's checks (EventHandler's annotations), plus well-formed actions this server can
    run. Any event is accepted, as in Conductor, which validates no more than a non-empty string:
    one whose queue type no consumer here reads (`sqs:`, `kafka:`, ...) is stored and listed,
    and the UI and /metrics say it has no consumer (services/event_processor.py)."""
    errors: list[FieldError] = []
    # Conductor's @NotEmpty: present and not "" (its messages).
    required = (("name", "Missing event handler name"), ("event", "Missing event location"))
    for key, message in required:
        if not isinstance(handler.get(key), str) or not handler[key]:
            errors.append(FieldError(f"{path}.{key}", message))
    actions = handler.get("actions")
    if not isinstance(actions, list) or not actions:
        errors.append(
            FieldError(
                f"{path}.actions", "No actions specified. Please specify at least one action"
            )
        )
    else:
        for i, action in enumerate(actions):
            kind = action.get("action") if isinstance(action, dict) else None
            if kind not in ACTIONS:
                errors.append(
                    FieldError(
                        f"{path}.actions[{i}].action",
                        f"must be one of {', '.join(ACTIONS)}",
                        kind,
                    )
                )
            elif not isinstance(action.get(kind), dict):
                errors.append(FieldError(f"{path}.actions[{i}].{kind}", f"{kind} is missing"))
    for key, kind in (("condition", str), ("active", bool), ("evaluatorType", str)):
        if handler.get(key) is not None and not isinstance(handler[key], kind):
            errors.append(FieldError(f"{path}.{key}", f"must be a {kind.__name__}"))
    if errors:
        raise ValidationFailed(errors)


@requires(Permission.OPERATE, audited=True)
async def add_handler(request: web.Request) -> web.Response:
    """One handler, as Conductor OSS takes; or a list of them, as Orkes takes and the JavaScript
    SDK sends (its addEventHandler wraps the one handler in a list): all stored, or none."""
    body = await rq.json_body(request)
    if isinstance(body, list):
        handlers = body
        for i, handler in enumerate(handlers):
            if not isinstance(handler, dict):
                raise ValidationFailed([FieldError(f"eventHandler[{i}]", "must be a JSON object")])
            check_handler(handler, f"eventHandler[{i}]")
    elif isinstance(body, dict):
        handlers = [body]
        check_handler(body)
    else:
        raise ValidationFailed([FieldError("eventHandler", "eventHandler must be a JSON object")])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        for handler in handlers:
            handler.setdefault("active", True)
            if not await store.insert_handler(conn, handler):
                raise Conflict(f"EventHandler with name {handler['name']} already exists!")
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def update_handler(request: web.Request) -> web.Response:
    """Update a handler (404 when its name is not stored)."""
    handler = await rq.json_object(request, "eventHandler")
    check_handler(handler)
    handler.setdefault("active", True)
    async with request.app[POOL].acquire() as conn:
        if not await store.update_handler(conn, handler):
            raise NotFound(f"EventHandler with name {handler['name']} not found!")
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def delete_handler(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        if not await store.delete_handler(conn, name):
            raise NotFound(f"EventHandler with name {name} not found!")
    return rq.empty()


@requires(Permission.READ)
async def list_handlers(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        return rq.json_response(await store.list_handlers(conn))


@requires(Permission.READ)
async def handlers_for_event(request: web.Request) -> web.Response:
    active_only = rq.query_bool(request, "activeOnly", True)
    async with request.app[POOL].acquire() as conn:
        found = await store.handlers_for(conn, request.match_info["event"], active_only)
    return rq.json_response(found)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/event", add_handler),
        web.put("/api/event", update_handler),
        web.get("/api/event", list_handlers),
        web.delete("/api/event/{name}", delete_handler),
        web.get("/api/event/{event}", handlers_for_event),
    ]
