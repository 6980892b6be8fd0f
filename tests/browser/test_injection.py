"""Hostile text in every field a page shows runs nothing in a real browser: on every UI page
(found from the router), every execution tab, the task panel and after live updates, no dialog
opens, `window.__pwned` stays unset, no link is a javascript: URL, every HTML answer carries a
Content-Security-Policy without inline script, and the payloads are shown as text."""

from __future__ import annotations

import pytest
from playwright.async_api import Dialog, Page, Response

from conductor.testing.server_process import ServerProcess
from tests.browser.walk import live_update, open_page, quoted_name, seed, walk
from tests.ui_walk import HOSTILE, NAME, SCRIPT, script_sources

pytestmark = pytest.mark.e2e


class Watch:
    """What the page did that it must not: dialogs, and HTML answers without a strict CSP."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.html: list[str] = []
        self.weak_policies: list[str] = []
        page.on("dialog", self._dialog)
        page.on("response", self._response)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def _response(self, response: Response) -> None:
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        self.html.append(response.url)
        policy = response.headers.get("content-security-policy")
        sources = script_sources(policy) if policy else "(no policy)"
        if policy is None or "'unsafe-inline'" in sources or "'unsafe-eval'" in sources:
            self.weak_policies.append(f"{response.url}: {sources}")


async def nothing_ran(page: Page, path: str) -> None:
    assert await page.evaluate("typeof window.__pwned") == "undefined", path
    links = await page.locator("a[href^='javascript:' i], [src^='javascript:' i]").count()
    assert links == 0, f"{path} has a javascript: URL"
    # Markup that got in, even if the policy kept it from running.
    injected = await page.locator(
        "body script, body img, [onerror], [onload], head script:not([src^='/ui/static/'])"
    ).count()
    assert injected == 0, f"{path} has elements made from data"
    assert await page.evaluate("window.__violations || []") == [], path


# Added before any page script runs: what the Content-Security-Policy refused on the page.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations = (window.__violations || []).concat(
    `${event.violatedDirective} ${event.blockedURI}`);
});
"""


async def test_hostile_text_runs_nothing_and_shows_as_text(server: ServerProcess, page: Page):
    hostile = await seed(server)
    watch = Watch(page)
    await page.add_init_script(RECORD_VIOLATIONS)

    opened = await walk(page, server.url, hostile, nothing_ran)
    assert f"/execution/{hostile.failed_id}?tab=json" in opened
    await live_update(page, server, hostile)
    await nothing_ran(page, "after the live update")

    assert watch.dialogs == []
    assert len(watch.html) >= len(opened)  # the live fragments are HTML answers too
    assert watch.weak_policies == []

    # Escaped, not dropped: the payloads read back as text.
    await open_page(page, f"{server.url}/execution/{hostile.failed_id}")
    assert (await page.title()).startswith(NAME)
    banner = await page.locator(".banner.failure").inner_text()
    assert banner.count(HOSTILE) == 2  # the reason, and the failed task's reference name
    await open_page(
        page, f"{server.url}/execution/{hostile.failed_id}?task={hostile.failed_task_id}"
    )
    panel = await page.locator("#task").inner_text()
    assert panel.count(HOSTILE) >= 2  # the reason and the log line, verbatim
    await open_page(page, f"{server.url}/execution/{hostile.failed_id}?tab=input")
    assert SCRIPT in await page.locator("main").inner_text()
    for kind in ("workflowDef", "taskDef"):
        await open_page(page, f"{server.url}/{kind}/{quoted_name()}")
        assert (await page.locator("h1").inner_text()).startswith(NAME)
        assert HOSTILE in await page.locator("main").inner_text()  # the description
    await nothing_ran(page, "the definition pages")
    assert watch.dialogs == []
