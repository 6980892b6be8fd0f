"""GET /api-docs: the OpenAPI document; /swagger-ui/: Swagger UI, served from vendored files."""

from __future__ import annotations

from importlib import metadata, resources
from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.openapi.spec import build
from conductor.api.permissions import requires
from conductor.roles import Permission

_DOCUMENT = web.AppKey("openapi_document", list)
SWAGGER_UI = resources.files("conductor.ui").joinpath("static/vendor/swagger-ui")
# Swagger UI's own start-up, pointed at this server's document (no request leaves the server).
_INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api-docs",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    validatorUrl: null
  });
};
"""


@requires(Permission.PUBLIC)
async def api_docs(request: web.Request) -> web.Response:
    built: list[dict[str, Any]] = request.app[_DOCUMENT]
    if not built:
        # Built once, at the first request: every route is in the router by then.
        built.append(build(request.app, metadata.version("conductor-py-server")))
    return rq.json_response(built[0])


# Swagger UI sets style attributes from script: its page alone allows inline styles.
_SWAGGER_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@requires(Permission.PUBLIC)
async def swagger_page(_request: web.Request) -> web.Response:
    page = SWAGGER_UI.joinpath("index.html").read_text("utf-8")
    response = web.Response(text=page, content_type="text/html")
    response.headers["Content-Security-Policy"] = _SWAGGER_CSP
    return response


@requires(Permission.PUBLIC)
async def swagger_initializer(_request: web.Request) -> web.Response:
    return web.Response(text=_INITIALIZER, content_type="application/javascript")


@requires(Permission.PUBLIC)
async def swagger_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/swagger-ui/index.html")


def setup(app: web.Application) -> None:
    app[_DOCUMENT] = []
    app.add_routes(routes())


def routes() -> list[web.AbstractRouteDef]:
    return [
        web.get("/api-docs", api_docs),
        web.get("/swagger-ui/index.html", swagger_page),
        web.get("/swagger-ui/swagger-initializer.js", swagger_initializer),
        web.get("/swagger-ui", swagger_index),
        web.get("/swagger-ui/", swagger_index),
        web.static("/swagger-ui", str(SWAGGER_UI)),
    ]
