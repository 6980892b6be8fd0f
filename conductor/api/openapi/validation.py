"""Request bodies checked against the wire models the OpenAPI document shows, before any work.

A field of the wrong type (an enum given an object, a version given text) is a 400 with
Conductor's `validationErrors`, not an error deep in the engine. Lax where Conductor's Jackson
is lax: numeric strings for numbers, numbers for strings, unknown fields kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from conductor.api import requests as rq
from conductor.api.openapi.operations import OPERATIONS
from conductor.errors import FieldError, ValidationFailed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@cache
def _adapter(method: str, path: str) -> TypeAdapter[Any] | None:
    operation = OPERATIONS.get((method, path))
    if operation is None:
        return None
    body = operation.body
    if isinstance(body, list):
        return TypeAdapter(list[body[0]])  # type: ignore[valid-type]
    if isinstance(body, type) and issubclass(body, BaseModel):
        return TypeAdapter(body)
    return None


@web.middleware
async def validate_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("POST", "PUT"):
        resource = request.match_info.route.resource
        adapter = _adapter(request.method, resource.canonical) if resource is not None else None
        if adapter is not None and (await request.read()).strip():
            body = await rq.json_body(request)
            try:
                adapter.validate_python(body)
            except ValidationError as exc:
                raise ValidationFailed([_field_error(e) for e in exc.errors()[:20]]) from None
    return await handler(request)


def _field_error(error: Any) -> FieldError:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    value = error.get("input")
    shown = value if isinstance(value, str | int | float | bool) else None
    return FieldError(path.lstrip(".") or "body", error["msg"], shown)
