"""GET /api-docs: the OpenAPI document, built at the first request from the route table."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.openapi.spec import build
from conductor.api.permissions import requires
from conductor.roles import Permission

_DOCUMENT = web.AppKey("openapi_document", list)


@requires(Permission.PUBLIC)
async def api_docs(request: web.Request) -> web.Response:
    built: list[dict[str, Any]] = request.app[_DOCUMENT]
    if not built:
        # Built once, at the first request: every route is in the router by then.
        built.append(build(request.app, metadata.version("conductor-py-server")))
    return rq.json_response(built[0])


def setup(app: web.Application) -> None:
    app[_DOCUMENT] = []
    app.router.add_get("/api-docs", api_docs)
