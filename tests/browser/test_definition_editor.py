"""An operator edits a workflow definition in the browser: the server's validation error is
shown at its line, the fix is reviewed as a diff and saved as a new version. And one runs a
workflow from the run form and finds it among the recent runs."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from conductor.testing.server_process import ServerProcess
from tests.browser.conftest import screenshot, sign_in
from tests.e2e.keys import create_key, request, wait_for_key

pytestmark = pytest.mark.e2e

EDITOR = "textarea#definition"


def _register(server: ServerProcess, token: str, name: str, **extra: object) -> None:
    definition = {
        "name": name,
        "version": 1,
        "tasks": [{"name": "charge", "taskReferenceName": "charge_card", "type": "SIMPLE"}],
        "timeoutPolicy": "ALERT_ONLY",
        "timeoutSeconds": 0,
        **extra,
    }
    assert request(f"{server.api}/metadata/workflow", definition, token)[0] == 200


async def _selected(page: Page) -> str:
    return await page.eval_on_selector(
        EDITOR, "t => t.value.slice(t.selectionStart, t.selectionEnd)"
    )


async def test_a_validation_error_is_shown_at_its_line_then_the_fix_is_saved(
    server: ServerProcess, page: Page
) -> None:
    operator = create_key(server.database_url, "--role", "operator")
    token = wait_for_key(server, operator)
    _register(server, token, "edit_flow")
    await sign_in(page, server.url, operator.key_id, operator.secret)
    await page.goto(f"{server.url}/workflowDef/edit_flow")
    await page.click("a:has-text('Edit')")
    await page.wait_for_url(re.compile(r"/edit/workflowDef/edit_flow\?version=1$"))
    original = await page.input_value(EDITOR)

    await page.fill(EDITOR, original.replace('"charge_card"', '"charge_card",'))
    await page.click("button:has-text('Save')")
    syntax = page.locator(".problems .message")
    await syntax.wait_for()
    assert re.search(r"syntax error at line \d+, column \d+", await syntax.inner_text())

    await page.fill(EDITOR, original.replace('"ALERT_ONLY"', '"SOMETIMES"'))
    await page.click("button:has-text('Save')")
    error = page.locator(".field-errors li[data-path$='.timeoutPolicy']")
    await error.wait_for()
    assert "timeoutPolicy" in await error.inner_text()
    assert (await _selected(page)).startswith('"timeoutPolicy": "SOMETIMES"')  # at its line
    await screenshot(page, "definition-editor-error")

    await page.fill(EDITOR, original.replace('"ALERT_ONLY"', '"TIME_OUT_WF"'))
    await page.check("input[name=asNewVersion]")
    await page.click("button:has-text('Review changes')")
    added = page.locator(".diff-view tr.diff-added code")
    await added.first.wait_for()
    assert sorted(await added.all_inner_texts()) == [
        '  "timeoutPolicy": "TIME_OUT_WF",',
        '  "version": 2',
    ]
    removed = await page.locator(".diff-view tr.diff-removed code").all_inner_texts()
    assert sorted(removed) == ['  "timeoutPolicy": "ALERT_ONLY",', '  "version": 1']
    await screenshot(page, "definition-editor-diff")

    await page.click("button:has-text('Save')")
    await page.wait_for_url(re.compile(r"/workflowDef/edit_flow\?version=2$"))
    status, saved = request(f"{server.api}/metadata/workflow/edit_flow?version=2", None, token)
    assert status == 200 and saved["timeoutPolicy"] == "TIME_OUT_WF"
    status, first = request(f"{server.api}/metadata/workflow/edit_flow?version=1", None, token)
    assert status == 200 and first["timeoutPolicy"] == "ALERT_ONLY"


async def test_run_a_workflow_and_find_it_among_the_recent_runs(
    server: ServerProcess, page: Page
) -> None:
    operator = create_key(server.database_url, "--role", "operator")
    token = wait_for_key(server, operator)
    _register(server, token, "run_flow", inputParameters=["amount"])
    await sign_in(page, server.url, operator.key_id, operator.secret)
    await page.click("header nav a:has-text('Run')")
    await page.wait_for_url(f"{server.url}/runWorkflow")
    await page.select_option("select[name=name]", "run_flow")
    assert '"amount": ""' in await page.input_value("textarea[name=input]")
    await page.fill("textarea[name=input]", '{"amount": 12}')
    await page.fill("input[name=correlationId]", "order-9")
    await screenshot(page, "run-form")
    await page.click("button:has-text('Run')")
    await page.wait_for_url(re.compile(r"/execution/[^/?]+$"))
    workflow_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("h1:has-text('run_flow')")
    status, run = request(f"{server.api}/workflow/{workflow_id}?includeTasks=false", None, token)
    assert status == 200
    assert run["input"] == {"amount": 12} and run["correlationId"] == "order-9"

    await page.goto(f"{server.url}/runWorkflow")
    recent = page.locator(f"#recent-runs a[href='/execution/{workflow_id}']")
    await recent.wait_for()
    assert "run_flow" in await recent.inner_text()
    await screenshot(page, "run-form-recent")
