"""Builds the OpenAPI 3.1 document from the app's route table, operations.py and models.py.

Every route of the app is in it except the web UI's pages and files (`is_ui_route`): paths,
methods and path parameters come from the router, permissions from each handler's
`@requires`, summaries from operations.py or the handler's docstring.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from conductor.api.openapi import models
from conductor.api.openapi.operations import ANY, OPERATIONS, Operation, Query, Shape
from conductor.api.permissions import access_of
from conductor.roles import Permission

_PARAMETER = re.compile(r"{(\w+)(?::[^}]*)?}")
_DOCUMENTED_OUTSIDE_API = ("/health", "/metrics", "/api-docs")
_REF = "#/components/schemas/{model}"
TOKEN_SCHEME = "conductorToken"


def is_ui_route(path: str) -> bool:
    """The web UI's pages, forms and static files: HTML for people, not the API."""
    return not (path.startswith("/api/") or path in _DOCUMENTED_OUTSIDE_API)


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) of every documented route, in the router's order."""
    found = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path")
        if isinstance(path, str) and not is_ui_route(path):
            found.append((route.method, path, route.handler))
    return found


def build(app: web.Application, version: str) -> dict[str, Any]:
    schemas = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in api_routes(app):
        operation = OPERATIONS.get((method, path)) or _default_operation(method)
        paths.setdefault(_PARAMETER.sub(r"{\1}", path), {})[method.lower()] = _operation(
            method, path, handler, operation
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Conductor-compatible workflow server API",
            "version": version,
            "description": "Conductor OSS's REST API, as this server serves it. Errors use"
            " Conductor's shape (ErrorBody). With API keys on, send the token from POST"
            " /api/token in X-Authorization.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                TOKEN_SCHEME: {"type": "apiKey", "in": "header", "name": "X-Authorization"}
            },
        },
    }


def _default_operation(method: str) -> Operation:
    return Operation(body=ANY if method in ("POST", "PUT") else None)


def _operation(method: str, path: str, handler: Any, operation: Operation) -> dict[str, Any]:
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    tag = segments[1] if len(segments) > 1 and segments[0] == "api" else segments[0]
    result: dict[str, Any] = {
        "tags": [tag],
        "operationId": _operation_id(method, path),
        "summary": operation.summary or _first_line(handler),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAMETER.findall(path)
        ]
        + [_query_parameter(q) for q in operation.query],
        "responses": {
            **_answers(operation),
            "default": {
                "description": "Conductor's error body",
                "content": {"application/json": {"schema": _ref(models.ErrorBody)}},
            },
        },
    }
    if operation.body is not None:
        content_type = "text/plain" if operation.body == {"type": "string"} else "application/json"
        result["requestBody"] = {
            "required": operation.body is not ANY,
            "content": {content_type: {"schema": _schema(operation.body)}},
        }
    access = access_of(handler)
    if access is not None and access.permission is Permission.PUBLIC:
        result["security"] = []
    else:
        # With API keys off (the default on loopback) no token is needed.
        result["security"] = [{TOKEN_SCHEME: []}, {}]
    return result


def _answers(operation: Operation) -> dict[str, Any]:
    if operation.answer is ANY:  # any JSON, text or nothing
        return {"200": {"description": "OK"}, "204": {"description": "No content"}}
    content_type = "text/plain" if operation.answer_is_text else "application/json"
    answers: dict[str, Any] = {
        "200": {
            "description": "OK",
            "content": {content_type: {"schema": _schema(operation.answer)}},
        }
    }
    if operation.may_be_empty:
        answers["204"] = {"description": "Nothing to give"}
    return answers


def _query_parameter(query: Query) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": query.kind}
    if query.minimum is not None:
        schema["minimum"] = query.minimum
    if query.maximum is not None:
        schema["maximum"] = query.maximum
    parameter: dict[str, Any] = {
        "name": query.name,
        "in": "query",
        "required": query.required,
        "schema": schema,
    }
    if query.description:
        parameter["description"] = query.description
    return parameter


def _schema(shape: Shape) -> dict[str, Any]:
    if isinstance(shape, list):
        return {"type": "array", "items": _ref(shape[0])}
    if isinstance(shape, dict):
        return shape
    return _ref(shape)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": _REF.format(model=model.__name__)}


def _component_schemas() -> dict[str, Any]:
    wire = [
        value
        for name, value in vars(models).items()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == models.__name__
        and not name.startswith("_")
    ]
    _, top = models_json_schema([(model, "validation") for model in wire], ref_template=_REF)
    return dict(top.get("$defs", {}))


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", _PARAMETER.sub(r"by_\1", path)).strip("_")
    return f"{method.lower()}_{words}"


def _first_line(handler: Any) -> str:
    doc = inspect.getdoc(handler) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
