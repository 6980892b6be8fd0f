"""Reading what clients send: JSON bodies and query parameters, the way the real SDKs send them.

The Python SDK sends booleans as `True`/`False` and absent values as `None` or an empty string in
query strings, and `{}` bodies on DELETE and PUT; all of that is accepted here. Malformed input is a
400 in Conductor's error shape before anything is written.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from conductor.errors import BadRequest, FieldError, UnsupportedMediaType, ValidationFailed
from conductor.store.storable import MAX_DEPTH, unstorable_part

_ABSENT = {"", "none", "null", "undefined"}


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


# The body as parsed once (by the body validation, conductor/api/openapi/validation.py).
_PARSED = web.RequestKey("parsed_body", object)


async def json_body(request: web.Request, *, required: bool = True) -> Any:
    if _PARSED in request:
        return request[_PARSED]
    raw = await request.read()
    if not raw.strip():
        if required:
            raise BadRequest("Request body is missing or empty")
        return None
    # As Conductor's server: a body must say it is JSON. A web page on another site can send
    # text/plain or form bodies without the browser asking first; it cannot send this.
    if not _is_json(request.content_type):
        sent = request.headers.get("Content-Type", "none")
        raise UnsupportedMediaType(
            f"Content-Type '{sent}' is not supported: send the body as application/json"
        )
    try:
        # orjson refuses NaN/Infinity, invalid UTF-8 and nesting deeper than 1024 levels.
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from exc
    # Cheap scans of the raw text first: the walk runs only when a NUL or deep nesting could
    # be there.
    if b"\\u0000" in raw or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        problem = unstorable_part(body, "body")
        if problem is not None:
            raise ValidationFailed([FieldError(*problem)])
    request[_PARSED] = body
    return body


async def json_object(request: web.Request, name: str, *, required: bool = True) -> dict[str, Any]:
    body = await json_body(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError(name, f"{name} must be a JSON object")])
    return body


async def json_list(request: web.Request, name: str) -> list[Any]:
    body = await json_body(request)
    if not isinstance(body, list):
        raise ValidationFailed([FieldError(name, f"{name} must be a JSON array")])
    return body


def query_str(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is None or value.strip().lower() in _ABSENT:
        return None
    return value


def query_bool(request: web.Request, name: str, default: bool) -> bool:
    value = query_str(request, name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"Query parameter {name} must be true or false, got {value!r}")


def query_int(
    request: web.Request,
    name: str,
    default: int | None,
    *,
    minimum: int | None = None,
    bits: int = 64,
) -> int | None:
    """An integer query parameter; out of a `bits`-wide signed range is a 400 (the columns
    it meets are that wide: Conductor's versions are 32-bit, times and counts 64-bit)."""
    value = query_str(request, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"Query parameter {name} must be an integer, got {value!r}") from exc
    if minimum is not None and number < minimum:
        raise BadRequest(f"Query parameter {name} must be at least {minimum}")
    _check_range(f"Query parameter {name}", number, bits)
    return number


def path_int(request: web.Request, name: str, *, bits: int = 64) -> int:
    value = request.match_info[name]
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"Path parameter {name} must be an integer, got {value!r}") from exc
    _check_range(f"Path parameter {name}", number, bits)
    return number


def _check_range(what: str, number: int, bits: int) -> None:
    limit = 2 ** (bits - 1)
    if not -limit <= number < limit:
        raise BadRequest(f"{what} must be a {bits}-bit integer, got {number}")


def text(value: str) -> web.Response:
    return web.Response(text=value, content_type="text/plain")


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def empty(status: int = 200) -> web.Response:
    return web.Response(status=status)


def check_type(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> None:
    """Refuse a present field of the wrong JSON type (bool is never an int here)."""
    value = obj.get(key)
    if value is None:
        return
    wrong = not isinstance(value, kind) or (
        isinstance(value, bool) and kind in (int, (int,), (int, float))
    )
    if wrong:
        raise ValidationFailed([FieldError(f"{path}.{key}", f"{key} has the wrong type", value)])
