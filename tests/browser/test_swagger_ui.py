"""Swagger UI in a real browser: it renders the server's own document, every request stays on
the server, and the page's policy lets it run (no CSP violations)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import ConsoleMessage, Page, Route

from conductor.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


async def test_swagger_ui_shows_the_api_from_the_server_alone(
    server: ServerProcess, page: Page
) -> None:
    own = urlsplit(server.url).netloc
    foreign: list[str] = []
    problems: list[str] = []

    async def only_own_origin(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own or route.request.url.startswith("data:"):
            await route.continue_()
        else:
            foreign.append(route.request.url)
            await route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    await page.context.route("**/*", only_own_origin)
    page.on("console", on_console)
    await page.goto(f"{server.url}/swagger-ui/index.html")

    operations = page.locator(".opblock")
    await operations.first.wait_for()
    assert await operations.count() > 100
    assert await page.locator(".title").first.inner_text() != ""
    # Open one operation: its parameters come from the document.
    start = page.locator("#operations-workflow-post_api_workflow_by_name")
    await start.locator(".opblock-summary").click()
    await start.locator("text=correlationId").first.wait_for()
    assert foreign == []
    assert problems == []
