"""An operator finds a failed run, reads why it failed, retries it from the page, and watches it
complete without reloading, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.browser.conftest import screenshot, sign_in
from tests.e2e.keys import create_key, request, wait_for_key

pytestmark = pytest.mark.e2e

FLOW = "charge_flow"


def _failed_run(server: ServerProcess, token: str) -> tuple[str, str]:
    """A run whose one task failed for good: (workflow id, task id)."""
    definition = {
        "name": FLOW,
        "version": 1,
        "tasks": [{"name": "charge", "taskReferenceName": "charge_card", "type": "SIMPLE"}],
    }
    assert request(f"{server.api}/metadata/workflow", definition, token)[0] == 200
    run = {"name": FLOW, "correlationId": "order-7", "input": {"amount": 12}}
    status, workflow_id = request(f"{server.api}/workflow", run, token)
    assert status == 200
    workflow_id = workflow_id.decode()
    status, [task] = request(f"{server.api}/tasks/poll/batch/charge?timeout=1000", None, token)
    assert status == 200
    result = {
        "workflowInstanceId": workflow_id,
        "taskId": task["taskId"],
        "status": "FAILED_WITH_TERMINAL_ERROR",
        "reasonForIncompletion": "card declined",
        "outputData": {"code": "do_not_honor"},
    }
    assert request(f"{server.api}/tasks", result, token)[0] == 200
    return workflow_id, task["taskId"]


async def test_retry_from_the_page_and_watch_it_complete(server: ServerProcess, page: Page):
    operator = create_key(server.database_url, "--role", "operator")
    token = wait_for_key(server, operator)
    workflow_id, failed_task = _failed_run(server, token)

    await sign_in(page, server.url, operator.key_id, operator.secret)

    await page.fill("input[name=correlationId]", "order-7")
    await page.click("button:has-text('Search')")
    await screenshot(page, "executions")
    await page.click(f"a[href='/execution/{workflow_id}']")
    await page.wait_for_selector("[role=alert]:has-text('card declined')")
    node = page.locator("section.diagram [data-ref='charge_card']")
    assert await node.get_attribute("data-status") == "failed"
    await screenshot(page, "execution-failed")
    await page.click("text=Go to the failed task charge_card")
    await page.wait_for_selector("#task:has-text('do_not_honor')")
    assert failed_task in page.url
    await screenshot(page, "execution-task")

    page.on("dialog", lambda dialog: dialog.accept())
    await page.click(".actions button:has-text('Retry')")
    await page.wait_for_selector("h1 .chip:has-text('RUNNING')")
    await page.evaluate("window.stillTheSamePage = true")

    status, [task] = request(f"{server.api}/tasks/poll/batch/charge?timeout=1000", None, token)
    assert status == 200
    done = {
        "workflowInstanceId": workflow_id,
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "outputData": {"charged": 12},
    }
    assert request(f"{server.api}/tasks", done, token)[0] == 200
    await page.wait_for_selector("h1 .chip:has-text('COMPLETED')")
    assert await page.evaluate("window.stillTheSamePage") is True  # updated live, no reload
    await page.wait_for_selector(
        "section.diagram [data-ref='charge_card'][data-status='completed']"
    )
    await screenshot(page, "execution-completed")
    assert await page.locator(".actions button:has-text('Retry')").count() == 0


async def test_bulk_terminate_says_how_many_and_names_the_key(server: ServerProcess, page: Page):
    operator = create_key(server.database_url, "--role", "operator")
    admin = create_key(server.database_url, "--role", "admin")
    token = wait_for_key(server, operator)
    admin_token = wait_for_key(server, admin)
    definition = {
        "name": "bulk_flow",
        "version": 1,
        "tasks": [{"name": "slow", "taskReferenceName": "slow", "type": "SIMPLE"}],
    }
    assert request(f"{server.api}/metadata/workflow", definition, token)[0] == 200
    started = [
        request(f"{server.api}/workflow", {"name": "bulk_flow", "input": {}}, token)[1].decode()
        for _ in range(3)
    ]
    await sign_in(page, server.url, operator.key_id, operator.secret)
    await page.goto(f"{server.url}/executions?workflowType=bulk_flow")
    await page.check("input[data-select-all]")
    asked: list[str] = []

    async def answer(dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    await page.fill(".bulk input[name=reason]", "duplicate orders")
    await page.click(".bulk button:has-text('Terminate')")
    await page.wait_for_selector("table.results .chip:has-text('TERMINATED')")
    assert asked == ["Terminate 3 executions?"]
    for workflow_id in started:
        status, run = request(
            f"{server.api}/workflow/{workflow_id}?includeTasks=false", None, token
        )
        assert status == 200 and run["status"] == "TERMINATED"
        assert run["reasonForIncompletion"] == "duplicate orders"
    status, trail = request(f"{server.api}/admin/audit?limit=5", None, admin_token)
    assert status == 200
    assert trail[0]["action"] == "POST /api/workflow/bulk/terminate"
    assert trail[0]["principal"] == operator.key_id
    await screenshot(page, "executions-bulk")
