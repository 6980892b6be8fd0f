"""The UI needs nothing from outside its server: on every page (found from the router), every
execution tab, the task panel and a live update, each request the browser makes goes to the
server's own origin, nothing foreign is asked for (a route blocks and records it), and no page
carries data: URIs (the policy's img-src would allow them; none is needed)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request, Route

from conductor.testing.server_process import ServerProcess
from tests.browser.walk import live_update, seed, walk

pytestmark = pytest.mark.e2e


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def no_data_uris(page: Page, path: str) -> None:
    found = await page.locator("[src^='data:' i], [href^='data:' i]").count()
    assert found == 0, f"{path} uses data: URIs"


async def test_every_request_stays_on_the_server(server: ServerProcess, page: Page):
    hostile = await seed(server)  # with an outside image among the payloads
    own = _origin(server.url)
    requested: list[str] = []
    blocked: list[str] = []

    async def only_own_origin(route: Route) -> None:
        if _origin(route.request.url) == own:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    def record(request: Request) -> None:
        requested.append(request.url)

    await page.context.route("**/*", only_own_origin)
    page.on("request", record)

    await walk(page, server.url, hostile, no_data_uris)
    await live_update(page, server, hostile)

    assert blocked == []
    assert [url for url in requested if _origin(url) != own] == []
    paths = {urlsplit(url).path for url in requested}
    # The walk did load the page's own files and the live fragment, through the recorder.
    assert {"/ui/static/vendor/htmx/htmx.min.js", "/ui/static/app.css"} <= paths
    assert f"/execution/{hostile.running_id}/changes" in paths
