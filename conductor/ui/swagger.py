"""Swagger UI at /swagger-ui/index.html, from the vendored swagger-ui-dist files, reading the
server's own /api-docs: nothing is loaded from the internet."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from conductor.api.permissions import requires
from conductor.roles import Permission

SWAGGER_UI = resources.files("conductor.ui").joinpath("static/vendor/swagger-ui")
# Swagger UI's own start-up, pointed at this server's document.
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
async def to_swagger_page(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/swagger-ui/index.html")


def routes() -> list[web.AbstractRouteDef]:
    return [
        web.get("/swagger-ui/index.html", swagger_page),
        web.get("/swagger-ui/swagger-initializer.js", swagger_initializer),
        web.get("/swagger-ui", to_swagger_page),
        web.get("/swagger-ui/", to_swagger_page),
        web.static("/swagger-ui", str(SWAGGER_UI)),
    ]
