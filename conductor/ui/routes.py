"""The web UI: pages rendered with Jinja2 (autoescaped everywhere), static files, sign-in.

With authentication on, the UI signs in with an API key: POST /login exchanges it for a session
token kept in an HttpOnly, SameSite=Strict cookie, and pages show only what the key's role may
see. Writes made with the cookie need the session's CSRF token (conductor/api/auth.py).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from conductor.api.auth import SESSION_COOKIE
from conductor.api.keys import KEYRING, SETTINGS
from conductor.api.permissions import requires
from conductor.errors import Unauthenticated
from conductor.roles import Permission
from conductor.services.keyring import TokenKind
from conductor.ui import (
    definition_pages,
    editor_pages,
    event_handler_pages,
    frame,
    pages,
    queue_page,
    run_page,
    schedule_pages,
    swagger,
    timer_page,
)
from conductor.ui.formatting import FILTERS

_STATIC = Path(str(resources.files("conductor.ui").joinpath("static")))


@requires(Permission.PUBLIC)
async def login_page(request: web.Request) -> web.Response:
    if not request.app[KEYRING].enabled:
        raise web.HTTPFound("/")
    return frame.page(request, "login.html")


@requires(Permission.PUBLIC)
async def login(request: web.Request) -> web.Response:
    ring = request.app[KEYRING]
    if not ring.enabled:
        raise web.HTTPFound("/")
    form = await request.post()
    key_id, secret = str(form.get("keyId") or ""), str(form.get("keySecret") or "")
    try:
        token = await ring.exchange(key_id, secret, TokenKind.SESSION)
    except Unauthenticated:
        return frame.page(
            request, "login.html", 401, error="Unknown key or wrong secret", key_id=key_id
        )
    response = web.HTTPFound("/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(request.app[SETTINGS].ui_session_ttl_s),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    raise response


@requires(Permission.PUBLIC)
async def logout(_request: web.Request) -> web.Response:
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def setup(app: web.Application) -> None:
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("conductor.ui", "templates"),
        autoescape=True,
    )
    environment.filters.update(FILTERS)
    app.add_routes(swagger.routes())
    app.add_routes(
        [
            web.get("/", pages.home),
            web.get("/executions", pages.executions),
            web.get("/execution/{workflow_id}", pages.execution),
            web.get("/execution/{workflow_id}/changes", pages.execution_changes),
            web.get("/search/tasks", pages.task_search),
            web.get("/taskQueue", queue_page.task_queues),
            web.get("/workflowDefs", definition_pages.workflow_defs),
            web.get("/workflowDef/{name}", definition_pages.workflow_def),
            web.get("/taskDefs", definition_pages.task_defs),
            web.get("/taskDef/{name}", definition_pages.task_def),
            *editor_pages.routes(),
            web.get("/runWorkflow", run_page.run_workflow),
            web.get("/scheduleDefs", schedule_pages.schedule_defs),
            web.get("/scheduleDef/{name}", schedule_pages.schedule_def),
            web.get("/eventHandlerDefs", event_handler_pages.event_handler_defs),
            web.get("/eventHandlerDef/{name}", event_handler_pages.event_handler_def),
            web.get("/timers", timer_page.timers),
            web.get("/login", login_page),
            web.post("/login", login),
            web.post("/logout", logout),
            web.static("/ui/static", _STATIC),
        ]
    )
