"""POST /api/token: a key id and secret for a short-lived token, as Orkes Conductor answers.

Without keys the server is open and answers 404, which the SDKs read as "Conductor OSS: no
authentication" and carry on without tokens.
"""

from __future__ import annotations

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import KEYRING
from conductor.api.permissions import requires
from conductor.errors import FieldError, NotFound, ValidationFailed
from conductor.roles import Permission


@requires(Permission.PUBLIC)
async def token(request: web.Request) -> web.Response:
    ring = request.app[KEYRING]
    if not ring.enabled:
        raise NotFound(f"No resource found for {request.path}: authentication is off")
    body = await rq.json_object(request, "tokenRequest")
    key_id, secret = body.get("keyId"), body.get("keySecret")
    errors = [
        FieldError(f"tokenRequest.{name}", f"{name} must be a non-empty string")
        for name, value in (("keyId", key_id), ("keySecret", secret))
        if not isinstance(value, str) or not value
    ]
    if errors or not isinstance(key_id, str) or not isinstance(secret, str):
        raise ValidationFailed(errors)
    return rq.json_response({"token": await ring.exchange(key_id, secret)})


def routes() -> list[web.RouteDef]:
    return [web.post("/api/token", token)]
