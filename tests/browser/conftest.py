"""Browser tests: Playwright driving Debian's chromium (Playwright's own download cannot work
here), against a real server process."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

# The server process fixtures and their failure reports, shared with the end-to-end tests.
from tests.e2e.conftest import pytest_runtest_makereport, server, servers  # noqa: F401

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return os.environ.get("CONDUCTOR_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Async Playwright: the sync API keeps an event loop running, which the database fixtures'
    asyncio.run() cannot live with."""
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is needed for the browser tests (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) and a page in it."""
    context = await browser.new_context()
    # Well inside pytest's own timeout, so that a failing wait ends as a failure, not a kill.
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


SCREENSHOTS = Path(os.environ.get("CONDUCTOR_SCREENSHOTS", "build/screenshots"))


async def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows now (for reviews and the README), full height; Playwright
    makes the folder."""
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Page, base: str, key_id: str, secret: str) -> None:
    """Through the sign-in form, as a person would; lands on the executions page."""
    await page.goto(f"{base}/login")
    await page.fill("input[name=keyId]", key_id)
    await page.fill("input[name=keySecret]", secret)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"{base}/executions")
