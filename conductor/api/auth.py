"""Who is asking, and may they: the middleware between every request and its handler.

With no API keys the server is open (the listen address is loopback unless --insecure-no-auth
says otherwise, see conductor/cli.py). Once keys exist, a request names its key with a token
from POST /api/token in `X-Authorization` (what the SDKs send) or `Authorization: Bearer`, or,
from the web UI, with the session cookie; writes made with the cookie must also carry the
session's CSRF token, because a browser attaches the cookie whatever page sent the request.
"""

from __future__ import annotations

from aiohttp import web

from conductor.api.audit_marks import subjects_of
from conductor.api.browser_guard import UNSAFE_METHODS
from conductor.api.keys import AUDIT, KEYRING
from conductor.api.middleware import Handler
from conductor.api.permissions import ADMIN_ONLY, Access, access_of
from conductor.errors import Forbidden, Unauthenticated
from conductor.roles import ANONYMOUS, Permission, Principal
from conductor.services.keyring import KeyRing, TokenKind, Verified

SESSION_COOKIE = "conductor_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Sent by the UI's script, so the audit trail can tell the UI's actions when auth is off.
CLIENT_HEADER = "X-Conductor-Client"
_PRINCIPAL = web.RequestKey("principal", Principal)
_CSRF = web.RequestKey("csrf", str)
_PUBLIC = Access(Permission.PUBLIC)


def principal_of(request: web.Request) -> Principal | None:
    """The caller: ANONYMOUS when authentication is off, None when not signed in."""
    return request.get(_PRINCIPAL)


def csrf_token_of(request: web.Request) -> str | None:
    """The UI session's CSRF token, for pages to put in their forms."""
    return request.get(_CSRF)


def check_task_scope(request: web.Request, task_type: str, domain: str | None) -> None:
    """403 when the caller's key is limited to other task types or domains."""
    principal = principal_of(request)
    if principal is None or not principal.scoped or principal.may_work_on(task_type, domain):
        return
    where = f" in domain {domain}" if domain else " outside a domain"
    raise Forbidden(f"Key {principal.name} may not work on {task_type} tasks{where}")


def _access(request: web.Request) -> Access | None:
    """What the matched route requires; None when nothing matched (the router answers)."""
    match_info = request.match_info
    if match_info.http_exception is not None:
        return None
    if isinstance(match_info.route.resource, web.StaticResource):
        return _PUBLIC
    return access_of(match_info.handler) or ADMIN_ONLY


async def _verified(request: web.Request, ring: KeyRing) -> Verified | None:
    header = request.headers.get("X-Authorization")
    if header is None:
        bearer = request.headers.get("Authorization", "")
        if bearer[:7].lower() == "bearer ":
            header = bearer[7:]
    if header is not None:
        return ring.verify(header.strip(), TokenKind.API)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    verified = ring.verify(cookie, TokenKind.SESSION)
    if request.method in UNSAFE_METHODS:
        await _check_csrf(request, verified.csrf)
    return verified


async def _check_csrf(request: web.Request, expected: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if expected is None or sent != expected:
        raise Forbidden("Missing or wrong CSRF token")


def _via(request: web.Request) -> str:
    """ "ui" for the web UI (its session cookie, or its script's header), else "api". A label
    for people reading the trail, not a proof: any client may send the header."""
    if request.headers.get(CLIENT_HEADER) == "ui":
        return "ui"
    with_token = "X-Authorization" in request.headers or "Authorization" in request.headers
    return "ui" if SESSION_COOKIE in request.cookies and not with_token else "api"


def _refusal(principal: Principal, request: web.Request) -> Forbidden:
    return Forbidden(
        f"Key {principal.name} (role {principal.role}) may not {request.method} {request.path}"
    )


@web.middleware
async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
    access = _access(request)
    if access is None:
        return await handler(request)
    ring = request.app[KEYRING]
    principal: Principal | None = ANONYMOUS
    if ring.enabled:
        verified: Verified | None
        if access.permission is Permission.PUBLIC:
            try:
                verified = await _verified(request, ring)
            except (Unauthenticated, Forbidden):
                verified = None  # a public route answers the same with a bad token
        else:
            verified = await _verified(request, ring)
            if verified is None:
                raise Unauthenticated(
                    "Authentication required: send a token from POST /api/token"
                    " in the X-Authorization header"
                )
            if not verified.principal.may(access.permission):
                raise _refusal(verified.principal, request)
        principal = verified.principal if verified else None
        if verified is not None and verified.csrf is not None:
            request[_CSRF] = verified.csrf
    if principal is not None:
        request[_PRINCIPAL] = principal
    response = await handler(request)
    if access.audited and principal is not None and response.status < 400:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else request.path
        action = f"{request.method} {route}"
        await request.app[AUDIT].record(
            principal,
            action,
            request.path,
            response.status,
            via=_via(request),
            workflow_ids=subjects_of(request),
        )
    return response
