"""/eventHandlerDefs and /eventHandlerDef/{name}: event handlers, what they listen to and do.
Activating or deactivating one is PUT /api/event with the handler's flag flipped; deleting is
DELETE /api/event/{name}. A handler whose event no consumer on this server reads (an `sqs:` or
`kafka:` queue, say) is shown as stored, marked "no consumer here"."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

from conductor.api.keys import POOL
from conductor.engine.model import JSON
from conductor.services.event_processor import CONSUMED_QUEUE_TYPES, consumed_here
from conductor.store import events as store
from conductor.ui.actions import Action
from conductor.ui.frame import may_operate, page, reading_page

STATES = ("all", "active", "inactive")


def _actions(handler: JSON, on_own_page: bool) -> list[Action]:
    name = str(handler.get("name"))
    active = bool(handler.get("active"))
    # The whole handler goes back with only the flag changed: PUT replaces the handler.
    flipped = orjson.dumps({**handler, "active": not active}).decode()
    label = "Deactivate" if active else "Activate"
    toggle = Action(label, "PUT", "/api/event", f"{label} event handler {name}?", body=flipped)
    if not on_own_page:
        return [toggle]
    path = f"/api/event/{quote(name, safe='')}"
    delete = Action(
        "Delete", "DELETE", path, f"Delete event handler {name}?", then="/eventHandlerDefs"
    )
    return [toggle, delete]


def _row(handler: JSON, operator: bool) -> dict[str, Any]:
    actions: Any = handler.get("actions") or []
    kinds = [str(a.get("action")) for a in actions if isinstance(a, dict)]
    event = handler.get("event")
    return {
        "handler": handler,
        "consumed": isinstance(event, str) and consumed_here(event),
        "action_types": sorted(set(kinds)),
        "actions": _actions(handler, False) if operator else [],
    }


@reading_page
async def event_handler_defs(request: web.Request) -> web.StreamResponse:
    state = request.query.get("state", "all")
    state = state if state in STATES else "all"
    async with request.app[POOL].acquire() as conn:
        found = await store.list_handlers(conn)
    if state != "all":
        found = [h for h in found if bool(h.get("active")) == (state == "active")]
    operator = may_operate(request)
    return page(
        request,
        "event_handler_defs.html",
        rows=[_row(handler, operator) for handler in found],
        state=state,
        states=STATES,
        may_operate=operator,
        consumed_types=CONSUMED_QUEUE_TYPES,
    )


@reading_page
async def event_handler_def(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        handler = await store.get_handler(conn, name)
    if handler is None:
        return page(request, "not_found.html", 404, what=f"event handler {name}")
    operator = may_operate(request)
    return page(
        request,
        "event_handler_def.html",
        row=_row(handler, operator),
        handler=handler,
        actions=_actions(handler, True) if operator else [],
        may_operate=operator,
        consumed_types=CONSUMED_QUEUE_TYPES,
    )
