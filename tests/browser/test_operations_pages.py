"""An operator pauses a schedule from the schedules list, and watches a queue's size change on
the queue monitor without reloading, in a real browser; screenshots of the operations pages."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.browser.conftest import screenshot, sign_in
from tests.e2e.keys import create_key, request, wait_for_key

pytestmark = pytest.mark.e2e


def _setup(server: ServerProcess, token: str) -> None:
    """A worker-task flow, a waiting flow, a schedule and an event handler."""
    flows = [
        {
            "name": "pack_flow",
            "version": 1,
            "tasks": [{"name": "pack", "taskReferenceName": "pack", "type": "SIMPLE"}],
        },
        {
            "name": "renewal",
            "version": 1,
            "tasks": [
                {
                    "name": "wait",
                    "taskReferenceName": "until_renewal",
                    "type": "WAIT",
                    "inputParameters": {"duration": "20 minutes"},
                }
            ],
        },
    ]
    for flow in flows:
        assert request(f"{server.api}/metadata/workflow", flow, token)[0] == 200
    for _ in range(2):
        assert request(f"{server.api}/workflow", {"name": "renewal"}, token)[0] == 200
    schedule = {
        "name": "nightly_pack",
        "cronExpression": "0 0 2 * * ?",
        "zoneId": "Europe/Berlin",
        "startWorkflowRequest": {"name": "pack_flow", "version": 1},
    }
    assert request(f"{server.api}/scheduler/schedules", schedule, token)[0] == 200
    handler = {
        "name": "on_parcel_scanned",
        "event": "conductor:pack_flow:scanned",
        "condition": "$.weight > 0",
        "actions": [{"action": "start_workflow", "start_workflow": {"name": "pack_flow"}}],
    }
    assert request(f"{server.api}/event", handler, token)[0] == 200


async def test_pause_a_schedule_and_watch_a_queue_grow(server: ServerProcess, page: Page):
    operator = create_key(server.database_url, "--role", "operator")
    token = wait_for_key(server, operator)
    _setup(server, token)
    await sign_in(page, server.url, operator.key_id, operator.secret)

    await page.goto(f"{server.url}/scheduleDefs")
    row = page.locator("tr[data-schedule='nightly_pack']")
    assert await row.locator("time").count() == 3  # the next three fire times
    await screenshot(page, "schedules")
    asked: list[str] = []

    async def answer(dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    await row.locator("button:has-text('Pause')").click()
    await page.wait_for_selector("tr[data-schedule='nightly_pack'] .chip:has-text('PAUSED')")
    assert asked == ["Pause schedule nightly_pack?"]
    status, schedule = request(f"{server.api}/scheduler/schedules/nightly_pack", None, token)
    assert status == 200 and schedule["paused"] is True

    await page.goto(f"{server.url}/taskQueue?refresh=1")
    await page.evaluate("window.stillTheSamePage = true")
    assert await page.locator("tr[data-queue='pack']").count() == 0
    for _ in range(3):
        assert request(f"{server.api}/workflow", {"name": "pack_flow"}, token)[0] == 200
    await page.wait_for_selector("tr[data-queue='pack'] td.size:text-is('3')")
    assert await page.evaluate("window.stillTheSamePage") is True  # refreshed, not reloaded
    await screenshot(page, "task-queues")

    await page.goto(f"{server.url}/timers")
    assert await page.locator("table.due a[href^='/execution/']").count() == 2
    await screenshot(page, "timers")
    await page.goto(f"{server.url}/eventHandlerDefs")
    await page.wait_for_selector(
        "tr[data-handler='on_parcel_scanned'] button:has-text('Deactivate')"
    )
    await screenshot(page, "event-handlers")
