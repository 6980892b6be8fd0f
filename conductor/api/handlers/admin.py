"""/api/admin: API keys (create, list, rotate, revoke) and the audit trail. Admins only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import AUDIT, KEY_ADMIN
from conductor.api.permissions import requires
from conductor.errors import FieldError, ValidationFailed
from conductor.roles import Permission
from conductor.services.api_keys import IssuedKey, parse_role
from conductor.wire.api_keys import issued_key_json, key_json


def _issued_json(issued: IssuedKey) -> dict[str, Any]:
    return issued_key_json(issued.key, issued.secret)


def _names(body: dict[str, Any], field: str) -> list[str] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed([FieldError(f"key.{field}", f"{field} must be a list of names")])
    return value


@requires(Permission.ADMIN)
async def list_keys(request: web.Request) -> web.Response:
    return rq.json_response([key_json(key) for key in await request.app[KEY_ADMIN].keys()])


@requires(Permission.ADMIN, audited=True)
async def create_key(request: web.Request) -> web.Response:
    body = await rq.json_object(request, "key")
    rq.check_type(body, "name", str, "key")
    issued = await request.app[KEY_ADMIN].create(
        parse_role(body.get("role")),
        name=body.get("name") or "",
        task_types=_names(body, "taskTypes"),
        domains=_names(body, "domains"),
    )
    return rq.json_response(_issued_json(issued))


@requires(Permission.ADMIN, audited=True)
async def rotate_key(request: web.Request) -> web.Response:
    issued = await request.app[KEY_ADMIN].rotate(request.match_info["key_id"])
    return rq.json_response(_issued_json(issued))


@requires(Permission.ADMIN, audited=True)
async def revoke_key(request: web.Request) -> web.Response:
    key = await request.app[KEY_ADMIN].revoke(request.match_info["key_id"])
    return rq.json_response(key_json(key))


@requires(Permission.ADMIN)
async def audit_trail(request: web.Request) -> web.Response:
    """The trail, newest first; with `workflowId`, only what touched that workflow."""
    limit = min(rq.query_int(request, "limit", 100, minimum=1) or 100, 1000)
    workflow_id = rq.query_str(request, "workflowId")
    if workflow_id is not None:
        entries = await request.app[AUDIT].of_workflow(workflow_id, limit)
    else:
        before = rq.query_int(request, "before", None, minimum=1)
        entries = await request.app[AUDIT].entries(limit, before)
    return rq.json_response(
        [
            {
                "id": e.id,
                "time": e.at_ms,
                "principal": e.principal,
                "role": e.role,
                "action": e.action,
                "target": e.target,
                "status": e.status,
                "via": e.via,
                "workflowIds": list(e.workflow_ids),
            }
            for e in entries
        ]
    )


def routes() -> list[web.RouteDef]:
    base = "/api/admin"
    return [
        web.get(f"{base}/keys", list_keys),
        web.post(f"{base}/keys", create_key),
        web.post(f"{base}/keys/{{key_id}}/rotate", rotate_key),
        web.delete(f"{base}/keys/{{key_id}}", revoke_key),
        web.get(f"{base}/audit", audit_trail),
    ]
