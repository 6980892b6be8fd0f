"""What every page shares: its frame (who is signed in, the CSRF token) and who may see it.
Pages that show the server's data need READ; pages whose only purpose is a write (an editor,
the run form) need OPERATE. The REST API checks again on every write; hiding controls only
spares a viewer buttons that fail."""

from __future__ import annotations

import functools
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from conductor.api.auth import csrf_token_of, principal_of
from conductor.api.keys import KEYRING
from conductor.api.middleware import Handler
from conductor.api.permissions import requires
from conductor.roles import Permission


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


def may_operate(request: web.Request) -> bool:
    principal = principal_of(request)
    return principal is not None and principal.may(Permission.OPERATE)


def may_administer(request: web.Request) -> bool:
    principal = principal_of(request)
    return principal is not None and principal.may(Permission.ADMIN)


def operating_page(handler: Handler) -> Handler:
    """A page whose only purpose is a write (an editor, the run form): a reading page that
    answers 403 to a role that may not OPERATE."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not may_operate(request):
            return page(request, "no_write_access.html", 403)
        return await handler(request)

    return reading_page(guarded)
