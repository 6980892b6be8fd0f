"""An operator approves a HUMAN task with output from the execution page, watches the run finish
without reloading, and reads its timeline, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.browser.conftest import screenshot, sign_in
from tests.e2e.keys import create_key, request, wait_for_key

pytestmark = pytest.mark.e2e

FLOW = {
    "name": "approval_flow",
    "version": 1,
    "tasks": [
        {"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"},
        {"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"},
    ],
}


async def test_complete_a_human_task_from_the_page(server: ServerProcess, page: Page):
    operator = create_key(server.database_url, "--role", "operator")
    token = wait_for_key(server, operator)
    assert request(f"{server.api}/metadata/workflow", FLOW, token)[0] == 200
    status, workflow_id = request(f"{server.api}/workflow/approval_flow", {}, token)
    assert status == 200
    workflow_id = workflow_id.decode()

    await sign_in(page, server.url, operator.key_id, operator.secret)
    await page.goto(f"{server.url}/execution/{workflow_id}")
    await page.click("section.diagram [data-ref='approve'] a")
    await page.wait_for_selector("#task h2:has-text('approve')")
    page.on("dialog", lambda dialog: dialog.accept())

    output = page.locator("form[data-api$='/approve/COMPLETED'] textarea")
    await output.fill("{not json")
    await page.click("button:has-text('Complete approve')")
    await page.wait_for_selector("#task [role=alert]:has-text('The JSON cannot be read')")

    await output.fill('{"approvedBy": "ops", "limit": 40}')
    await page.click("button:has-text('Complete approve')")
    await page.wait_for_selector("#task .chip:has-text('COMPLETED')")
    await page.evaluate("window.stillTheSamePage = true")

    status, [task] = request(f"{server.api}/tasks/poll/batch/ship?timeout=1000", None, token)
    assert status == 200
    assert task["inputData"] == {}  # the HUMAN task's output is its own
    done = {"workflowInstanceId": workflow_id, "taskId": task["taskId"], "status": "COMPLETED"}
    assert request(f"{server.api}/tasks", done, token)[0] == 200
    await page.wait_for_selector("h1 .chip:has-text('COMPLETED')")
    assert await page.evaluate("window.stillTheSamePage") is True  # updated live, no reload
    status, run = request(f"{server.api}/workflow/{workflow_id}", None, token)
    assert status == 200
    assert run["tasks"][0]["outputData"] == {"approvedBy": "ops", "limit": 40}

    await page.click("nav.tabs a:has-text('Timeline')")
    timeline = page.locator("section.timeline svg.timeline")
    await timeline.wait_for()
    # One queue and one run bar per task, after the legend's pair.
    assert await timeline.locator("g.row").count() == 2
    assert await timeline.locator("g.row rect.bar.run").count() == 2
    assert await timeline.locator("g.row rect.bar.queue").count() == 2
    await screenshot(page, "execution-timeline")
