"""Every route of the route table, asked with every kind of bad token and with each role.

With authentication on, a route a caller may not use answers 401 or 403, never a 2xx or a 5xx;
a route the caller may use never answers 401, 403 or a 5xx (bad dummy input gets a 4xx).
"""

from __future__ import annotations

import re

import jwt
import pytest
from aiohttp import web

from conductor.api.keys import SETTINGS
from conductor.api.permissions import access_of
from conductor.roles import GRANTS, Permission, Role
from tests.integration.auth_helpers import auth, make_key, token_for, unsigned_token

pytestmark = pytest.mark.integration

_PLACEHOLDER = re.compile(r"\{(\w+)(:[^}]*)?\}")


def _concrete(path: str) -> str:
    return _PLACEHOLDER.sub(lambda m: "1" if m.group(1) == "version" else "x", path)


def route_table(app: web.Application) -> list[tuple[str, str, Permission]]:
    """(method, concrete path, permission) for every route the server answers."""
    walked = []
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        if isinstance(resource, web.StaticResource):
            walked.append((route.method, resource.canonical + "/app.css", Permission.PUBLIC))
            continue
        access = access_of(route.handler)
        assert access is not None, f"{route.method} {resource.canonical} declares no permission"
        walked.append((route.method, _concrete(resource.canonical), access.permission))
    return walked


async def _ask(client, method: str, path: str, headers: dict[str, str]) -> int:
    body = b"{}" if method in ("POST", "PUT", "DELETE") else None
    response = await client.request(
        method,
        path,
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        allow_redirects=False,
    )
    await response.read()
    return response.status


def test_every_route_declares_its_permission(client) -> None:
    routes = route_table(client.server.app)
    assert len(routes) > 80


async def test_bad_tokens_are_refused_everywhere(client, clock) -> None:
    app = client.server.app
    admin = await make_key(client, Role.ADMIN)
    expired = await token_for(client, admin)
    clock.advance(app[SETTINGS].auth_token_ttl_s + 1)
    claims = {"sub": admin.key.key_id, "gen": 1, "typ": "api", "exp": 4_000_000_000}
    bad_tokens = {
        "none": None,
        "malformed": "not.a.token",
        "expired": expired,
        "other signing key": jwt.encode(claims, "another-servers-key-0123456789abcdef"),
        "alg none": unsigned_token(claims),
    }
    failures = []
    for method, path, permission in route_table(app):
        for label, token in bad_tokens.items():
            status = await _ask(client, method, path, auth(token) if token else {})
            if status >= 500 or (permission is not Permission.PUBLIC and status != 401):
                failures.append(f"{label}: {method} {path} -> {status}")
    assert failures == []


async def test_each_role_reaches_exactly_what_it_is_granted(client) -> None:
    app = client.server.app
    tokens = {role: await token_for(client, await make_key(client, role)) for role in Role}
    failures = []
    for method, path, permission in route_table(app):
        for role, token in tokens.items():
            status = await _ask(client, method, path, auth(token))
            if status >= 500:
                failures.append(f"{role}: {method} {path} -> {status}")
            elif permission is Permission.PUBLIC:
                continue  # signing in with a bogus form answers 401, as it should
            elif permission in GRANTS[role]:
                if status in (401, 403):
                    failures.append(f"{role} refused: {method} {path} -> {status}")
            elif status not in (401, 403):
                failures.append(f"{role} let through: {method} {path} -> {status}")
    assert failures == []
