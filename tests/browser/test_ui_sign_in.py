"""Signing in to the web UI with an API key, in a real browser: the session, what each role
sees, escaping, and a Content-Security-Policy that the page's own script lives with."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, Page

from conductor.testing.server_process import ServerProcess
from tests.e2e.keys import Key, create_key, request, wait_for_key

pytestmark = pytest.mark.e2e

HOSTILE = 'wf<img src=x onerror="document.title=`pwned`">'


@pytest.fixture
def keyed_server(server: ServerProcess) -> tuple[ServerProcess, dict[str, Key]]:
    keys = {
        role: create_key(server.database_url, "--role", role)
        for role in ("admin", "viewer", "worker")
    }
    # Keys made together may reach the server in different reloads: wait for each.
    admin_token, *_ = [wait_for_key(server, key) for key in keys.values()]
    definition = {
        "name": HOSTILE,
        "version": 1,
        "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}],
    }
    status, body = request(f"{server.api}/metadata/workflow", definition, token=admin_token)
    assert status == 200, body
    run = {"name": HOSTILE, "correlationId": HOSTILE, "input": {"note": HOSTILE}}
    status, body = request(f"{server.api}/workflow", run, token=admin_token)
    assert status == 200, body
    return server, keys


async def _sign_in(page: Page, base: str, key: Key) -> None:
    await page.goto(f"{base}/")
    assert page.url == f"{base}/login"
    await page.fill("input[name=keyId]", key.key_id)
    await page.fill("input[name=keySecret]", key.secret)
    await page.click("button:has-text('Sign in')")


async def test_a_viewer_signs_in_and_sees_executions_as_text(keyed_server, page: Page) -> None:
    server, keys = keyed_server
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if _is_csp_refusal(message) else None,
    )
    requested: list[str] = []
    page.on("request", lambda sent: requested.append(sent.url))
    await _sign_in(page, server.url, keys["viewer"])
    await page.wait_for_url(f"{server.url}/executions")
    await page.wait_for_selector(f"text={keys['viewer'].key_id} (viewer)")
    row = page.locator("table.results tbody tr").first
    assert HOSTILE in await row.inner_text()  # shown as text
    assert await page.locator("main img").count() == 0  # never parsed as markup
    assert await page.title() != "pwned"
    # The page's own scripts ran under the CSP: htmx loaded, times shown in local time.
    assert await page.evaluate("typeof window.htmx") == "object"
    start_time = await row.locator("time").inner_text()
    assert not start_time.endswith("UTC")

    await row.locator("a[href^='/execution/']").click()
    await page.wait_for_selector("h1")
    assert HOSTILE in await page.locator("h1").inner_text()
    assert await page.locator("main img").count() == 0
    assert refused == []
    assert all(url.startswith(server.url) for url in requested), requested

    cookies = await page.context.cookies()
    cookie = next(c for c in cookies if c["name"] == "conductor_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == ""  # out of the page's scripts' reach

    await page.click("button:has-text('Sign out')")
    await page.wait_for_url(f"{server.url}/login")
    await page.goto(f"{server.url}/executions")
    assert page.url == f"{server.url}/login"


async def test_a_wrong_secret_is_refused(keyed_server, page: Page) -> None:
    server, keys = keyed_server
    await _sign_in(page, server.url, Key(keys["viewer"].key_id, "wrong"))
    await page.wait_for_selector("text=Unknown key or wrong secret")
    cookies = await page.context.cookies()
    assert not any(c["name"] == "conductor_session" for c in cookies)


async def test_a_worker_key_sees_no_executions(keyed_server, page: Page) -> None:
    server, keys = keyed_server
    await _sign_in(page, server.url, keys["worker"])
    await page.wait_for_selector("text=cannot view workflows")
    assert await page.locator("#defs").count() == 0


def _is_csp_refusal(message: ConsoleMessage) -> bool:
    return "Content Security Policy" in message.text or "Refused to" in message.text
