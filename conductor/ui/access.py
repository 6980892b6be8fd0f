"""Who sees write controls: the pages that change things are for roles that may OPERATE. The
REST API checks again on every write; hiding controls only spares a viewer buttons that fail."""

from __future__ import annotations

import functools

from aiohttp import web

from conductor.api.auth import principal_of
from conductor.api.middleware import Handler
from conductor.roles import Permission
from conductor.ui.pages import page, reading_page


def may_operate(request: web.Request) -> bool:
    principal = principal_of(request)
    return principal is not None and principal.may(Permission.OPERATE)


def operating_page(handler: Handler) -> Handler:
    """A page whose only purpose is a write (an editor, the run form): a reading page that
    answers 403 to a role that may not OPERATE."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not may_operate(request):
            return page(request, "no_write_access.html", 403)
        return await handler(request)

    return reading_page(guarded)
