"""The web UI: static pages that talk to the REST API from the browser."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

_STATIC = resources.files("conductor.ui").joinpath("static")


async def index(_request: web.Request) -> web.Response:
    html = _STATIC.joinpath("index.html").read_text("utf-8")
    return web.Response(text=html, content_type="text/html")


def routes() -> list[web.RouteDef]:
    return [web.get("/", index)]
