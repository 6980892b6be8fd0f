"""Opening every UI page in the browser: the router's pages (tests/ui_walk.py), then each
execution's tabs (read from its tab bar) and its task panel, and a live update of a running
execution. The injection and offline tests walk the same way and check different things."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.ui_walk import NAME, Hostile, poll_one, seed_hostile, ui_page_paths

Check = Callable[[Page, str], Awaitable[None]]

LIVE_MARK = "live-update-7e1"  # in the output a running task reports while its page is open


async def seed(server: ServerProcess) -> Hostile:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        return await seed_hostile(http)


async def open_page(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None, url
    assert response.ok, f"{url}: {response.status}"


async def execution_tabs(page: Page) -> list[str]:
    """The tab keys the open execution page links to in its tab bar."""
    keys: list[str] = await page.eval_on_selector_all(
        "nav.tabs a[href*='tab=']",
        "links => links.map(a => new URL(a.href).searchParams.get('tab'))",
    )
    assert keys, "the execution page has no tabs"
    return sorted(set(keys))


async def walk(page: Page, base: str, hostile: Hostile, check: Check) -> list[str]:
    """Open every page and call `check(page, path)` after each load; the paths opened."""
    opened = []
    for path in ui_page_paths(hostile):
        await open_page(page, base + path)
        await check(page, path)
        opened.append(path)
    await open_page(page, f"{base}/execution/{hostile.failed_id}")
    tabs = await execution_tabs(page)
    for run_id, task_id in (
        (hostile.failed_id, hostile.failed_task_id),
        (hostile.running_id, hostile.running_task_id),
    ):
        for path in [f"/execution/{run_id}?tab={tab}" for tab in tabs] + [
            f"/execution/{run_id}?task={task_id}"
        ]:
            await open_page(page, base + path)
            await check(page, path)
            opened.append(path)
    return opened


async def live_update(page: Page, server: ServerProcess, hostile: Hostile) -> None:
    """Open the running execution's task panel, make its task report hostile output, and wait
    until the page has swapped the news in (htmx polling /changes)."""
    await open_page(
        page, f"{server.url}/execution/{hostile.running_id}?task={hostile.running_task_id}"
    )
    await page.evaluate(
        "window.__swaps = 0;"
        "document.addEventListener('htmx:afterSwap', () => { window.__swaps += 1; });"
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        [task] = await poll_one(http)
        assert task["taskId"] == hostile.running_task_id
        update: dict[str, Any] = {
            "workflowInstanceId": hostile.running_id,
            "taskId": task["taskId"],
            "status": "IN_PROGRESS",
            "callbackAfterSeconds": 3600,
            "outputData": {"text": NAME, "mark": LIVE_MARK},
            "logs": [{"log": NAME}],
        }
        response = await http.post("/api/tasks", json=update)
        assert response.status == 200, await response.text()
    await page.wait_for_function("() => window.__swaps > 0")
    await page.wait_for_selector(f"#task:has-text('{LIVE_MARK}')")


def quoted_name() -> str:
    return quote(NAME, safe="")
