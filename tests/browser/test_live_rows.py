"""The tasks and JSON tabs follow a run live in a real browser: statuses change and new tasks
appear without a reload, nothing twice; the JSON tab keeps what it loaded until the run ends."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.e2e.keys import request

pytestmark = pytest.mark.e2e

STEPS = ("pick", "pack", "ship")


def _work_one(server: ServerProcess) -> str:
    status, [task] = request(f"{server.api}/tasks/poll/batch/work?timeout=1000")
    assert status == 200
    done = {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": "COMPLETED",
    }
    assert request(f"{server.api}/tasks", done)[0] == 200
    return str(task["taskId"])


async def test_rows_change_and_new_ones_appear_live(server: ServerProcess, page: Page):
    definition = {
        "name": "warehouse",
        "version": 1,
        "tasks": [{"name": "work", "taskReferenceName": s, "type": "SIMPLE"} for s in STEPS],
    }
    assert request(f"{server.api}/metadata/workflow", definition)[0] == 200
    status, workflow_id = request(f"{server.api}/workflow", {"name": "warehouse", "input": {}})
    assert status == 200
    await page.goto(f"{server.url}/execution/{workflow_id.decode()}?tab=tasks")
    await page.evaluate("window.stillTheSamePage = true")
    rows = page.locator("table.tasks tbody tr")
    assert await rows.count() == 1

    first = _work_one(server)
    await page.wait_for_selector(f"tr:has(a[href*='{first}']) .chip:has-text('COMPLETED')")
    await page.wait_for_function(
        "() => document.querySelectorAll('table.tasks tbody tr').length === 2"
    )
    _work_one(server)
    _work_one(server)
    await page.wait_for_selector("h1 .chip:has-text('COMPLETED')")
    assert await rows.count() == 3
    references = await page.locator("table.tasks tbody tr td:nth-child(2)").all_inner_texts()
    assert references == list(STEPS)
    assert await page.locator("table.tasks tbody .chip:has-text('COMPLETED')").count() == 3
    assert await page.evaluate("window.stillTheSamePage") is True


async def test_the_json_tab_keeps_its_document_through_live_updates(
    server: ServerProcess, page: Page
):
    definition = {
        "name": "documented",
        "version": 1,
        "tasks": [{"name": "work", "taskReferenceName": s, "type": "SIMPLE"} for s in STEPS],
    }
    assert request(f"{server.api}/metadata/workflow", definition)[0] == 200
    run = {"name": "documented", "input": {"order": "o-981"}}
    status, workflow_id = request(f"{server.api}/workflow", run)
    assert status == 200
    await page.goto(f"{server.url}/execution/{workflow_id.decode()}?tab=json")
    await page.evaluate(
        "window.__swaps = 0;"
        "document.addEventListener('htmx:afterSwap', () => { window.__swaps += 1; });"
    )
    _work_one(server)
    await page.wait_for_function("() => window.__swaps > 0")
    assert "o-981" in await page.locator("#run-json pre").inner_text()  # kept as loaded
    _work_one(server)
    _work_one(server)
    await page.wait_for_selector("h1 .chip:has-text('COMPLETED')")
    document = await page.locator("#run-json pre").inner_text()
    assert "o-981" in document and '"status": "COMPLETED"' in document  # the final one
