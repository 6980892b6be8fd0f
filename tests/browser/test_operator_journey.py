"""The issue's walk-through, in a real browser: a run with a fork, a switch, a sub-workflow and a
failing task is found by its correlation id; its diagram shows each part's status; the failed
task's reason and output are a click away; the operator retries it from the page and watches it
complete without reloading. The screenshots it writes are the README's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.browser.conftest import screenshot, sign_in
from tests.e2e.harness import wait_until_sync
from tests.e2e.keys import create_key, request, wait_for_key

pytestmark = pytest.mark.e2e

CHILD = {
    "name": "notify_customer",
    "version": 1,
    "tasks": [{"name": "send_email", "taskReferenceName": "send_email", "type": "SIMPLE"}],
}
ON_FAILURE = {
    "name": "order_failed",
    "version": 1,
    "tasks": [
        {
            "name": "open_ticket",
            "taskReferenceName": "open_ticket",
            "type": "INLINE",
            "inputParameters": {"evaluatorType": "javascript", "expression": "'ticket-1'"},
        }
    ],
}
ORDER = {
    "name": "order_flow",
    "version": 1,
    "failureWorkflow": "order_failed",
    "tasks": [
        {
            "name": "fulfil",
            "taskReferenceName": "fulfil",
            "type": "FORK_JOIN",
            "forkTasks": [
                [{"name": "pack", "taskReferenceName": "pack_box", "type": "SIMPLE"}],
                [
                    {
                        "name": "notify_customer",
                        "taskReferenceName": "notify",
                        "type": "SUB_WORKFLOW",
                        "subWorkflowParam": {"name": "notify_customer", "version": 1},
                    }
                ],
            ],
        },
        {
            "name": "fulfil_join",
            "taskReferenceName": "fulfil_join",
            "type": "JOIN",
            "joinOn": ["pack_box", "notify"],
        },
        {
            "name": "by_plan",
            "taskReferenceName": "by_plan",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "plan",
            "inputParameters": {"plan": "${workflow.input.plan}"},
            "decisionCases": {
                "premium": [{"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
                "free": [{"name": "gift", "taskReferenceName": "gift", "type": "SIMPLE"}],
            },
        },
    ],
}


class Api:
    """The REST calls a worker and a script make, with one key's token."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.api = server.api
        self.token = token

    def call(self, path: str, body: Any = None) -> Any:
        status, answer = request(f"{self.api}{path}", body, self.token)
        assert status == 200, (path, status, answer)
        return answer

    def work(self, task_type: str, status: str, **result: Any) -> str:
        """Poll one task of a type and report it; its workflow id."""
        found: list[dict[str, Any]] = []

        def polled() -> bool:
            found.extend(self.call(f"/tasks/poll/batch/{task_type}?timeout=200"))
            return bool(found)

        wait_until_sync(polled, what=f"a {task_type} task")
        [task] = found
        update = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": status,
            **result,
        }
        self.call("/tasks", update)
        return str(task["workflowInstanceId"])

    def wait_for_status(self, workflow_id: str, status: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def reached() -> bool:
            seen.update(self.call(f"/workflow/{workflow_id}?includeTasks=true"))
            return seen["status"] == status

        wait_until_sync(reached, what=f"{workflow_id} {status}")
        return seen


def _failed_order(api: Api) -> tuple[str, str]:
    """An order whose fork and sub-workflow completed and whose charge failed: (run, child)."""
    for definition in (CHILD, ON_FAILURE, ORDER):
        api.call("/metadata/workflow", definition)
    start = {"name": "order_flow", "correlationId": "order-42", "input": {"plan": "premium"}}
    workflow_id = api.call("/workflow", start).decode()
    api.work("pack", "COMPLETED", outputData={"parcel": "P-9"})
    child_id = api.work("send_email", "COMPLETED", outputData={"sent": True})
    api.work(
        "charge",
        "FAILED_WITH_TERMINAL_ERROR",
        reasonForIncompletion="card declined: insufficient funds",
        outputData={"code": "51", "gateway": "acme-pay"},
    )
    api.wait_for_status(workflow_id, "FAILED")
    return workflow_id, child_id


async def _status_of(page: Page, ref: str) -> str | None:
    return await page.locator(f"section.diagram g[data-ref='{ref}']").first.get_attribute(
        "data-status"
    )


async def test_find_read_retry_and_watch_an_order_complete(server: ServerProcess, page: Page):
    operator = create_key(server.database_url, "--role", "operator")
    api = Api(server, wait_for_key(server, operator))
    workflow_id, child_id = _failed_order(api)

    await sign_in(page, server.url, operator.key_id, operator.secret)
    await page.fill("input[name=correlationId]", "order-42")
    await page.click("button:has-text('Search')")
    await page.wait_for_selector(f"table.results a[href='/execution/{workflow_id}']")
    failure_id = api.call(f"/workflow/{workflow_id}")["output"]["conductor.failure_workflow"]
    found = await page.locator("table.results tbody a").evaluate_all(
        "(links) => links.map((link) => link.textContent)"
    )
    # The child and the failure workflow carry the order's correlation id, as in Conductor.
    assert sorted(found) == sorted([workflow_id, child_id, failure_id])
    await screenshot(page, "journey-executions")

    await page.click(f"a[href='/execution/{workflow_id}']")
    await page.wait_for_selector("[role=alert]:has-text('card declined: insufficient funds')")
    expected = {
        "fulfil": "completed",
        "pack_box": "completed",
        "notify": "completed",
        "fulfil_join": "completed",
        "by_plan": "completed",
        "charge": "failed",
        "gift": "not-reached",
    }
    seen = {ref: await _status_of(page, ref) for ref in expected}
    assert seen == expected
    assert "dimmed" in (await page.locator("g[data-ref='gift']").get_attribute("class") or "")
    assert await page.locator("g[data-ref='by_plan']").get_attribute("data-case") == "premium"
    legend = await page.locator("section.diagram").inner_text()
    assert "failed" in legend and "completed" in legend  # statuses in words, not colour alone

    # Fit the whole run in the frame (a tall window, for the README), then zoom in from there.
    await page.set_viewport_size({"width": 1280, "height": 1300})
    diagram = page.locator("section.diagram svg.cd-diagram")
    natural = int(await diagram.get_attribute("height") or 0)
    await page.click("button[data-zoom='fit']")
    fitted = int(await diagram.get_attribute("height") or 0)
    assert 0 < fitted <= min(natural, 0.75 * 1300)  # fits the frame, never enlarged
    await screenshot(page, "execution")
    await page.click("button[data-zoom='in']")
    assert int(await diagram.get_attribute("height") or 0) > fitted

    # The sub-workflow leads to its child, and the child back to its parent.
    await page.click(f"a.child-link[href='/execution/{child_id}']")
    await page.wait_for_selector(f"dd a[href='/execution/{workflow_id}']")
    assert await _status_of(page, "send_email") == "completed"
    await page.click(f"dd a[href='/execution/{workflow_id}']")

    await page.click("text=Go to the failed task charge")
    await page.wait_for_selector("#task:has-text('acme-pay')")
    panel = await page.locator("#task").inner_text()
    assert "card declined: insufficient funds" in panel and '"code": "51"' in panel
    await screenshot(page, "execution-failed-task")
    # The output copies with one click, and the definition folds away.
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    await page.click("#task button[aria-label='Copy output as JSON']")
    await page.wait_for_selector("#task button:has-text('Copied')")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert '"gateway": "acme-pay"' in copied
    definition = page.locator("#task details.json:has(h3:has-text('Definition'))")
    await definition.locator("summary").click()
    assert await definition.get_attribute("open") is None

    # The failure workflow the run started is a page of its own, with its diagram.
    await page.goto(f"{server.url}/execution/{failure_id}")
    await page.wait_for_selector("section.diagram g[data-ref='open_ticket']")
    api.wait_for_status(failure_id, "COMPLETED")

    await page.goto(f"{server.url}/execution/{workflow_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click(".actions button:has-text('Retry')")
    await page.wait_for_selector("h1 .chip:has-text('RUNNING')")
    await page.evaluate("window.stillTheSamePage = true")
    api.work("charge", "COMPLETED", outputData={"charged": 42})
    await page.wait_for_selector("h1 .chip:has-text('COMPLETED')")
    assert await page.evaluate("window.stillTheSamePage") is True  # live, no reload
    await page.wait_for_selector("section.diagram g[data-ref='charge'][data-status='completed']")
    assert await page.locator("[role=alert]:has-text('card declined')").count() == 0
    await screenshot(page, "execution-completed")


async def test_every_page_of_the_menu_opens(server: ServerProcess, page: Page):
    """Each page the menu leads to renders, and is photographed for review."""
    admin = create_key(server.database_url, "--role", "admin")
    api = Api(server, wait_for_key(server, admin))
    _failed_order(api)
    await sign_in(page, server.url, admin.key_id, admin.secret)
    links = await page.locator("header.top nav a").evaluate_all(
        "(links) => links.map((link) => link.getAttribute('href'))"
    )
    assert "/executions" in links and "/workflowDefs" in links
    for href in links:
        response = await page.goto(f"{server.url}{href}")
        assert response is not None and response.status == 200, href
        await page.wait_for_selector("main h1")
        await screenshot(page, "page" + href.replace("/", "-"))
    await page.goto(f"{server.url}/workflowDef/order_flow")
    await page.wait_for_selector("section.diagram g[data-ref='by_plan']")
    await screenshot(page, "workflow-definition")
