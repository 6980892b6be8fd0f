"""The definition editors, their review diff and the run form, as the server renders them: what
they are prefilled with, the REST calls they are told to make, escaping, and who sees them."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import pytest

from conductor.roles import Role
from tests.integration.api import register_workflow, sequence
from tests.integration.auth_helpers import make_key

pytestmark = pytest.mark.integration

HOSTILE = '<script>window.pwned=1</script>"><img src=x onerror=alert(1)>'

HANDLER = {
    "name": "on_order",
    "event": "conductor:orders",
    "active": True,
    "actions": [{"action": "start_workflow", "start_workflow": {"name": "billing"}}],
}
SCHEDULE = {
    "name": "nightly",
    "cronExpression": "0 0 2 * * *",
    "startWorkflowRequest": {"name": "billing", "input": {}},
}


async def _page(client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.text()


def _textarea(page: str) -> str:
    [text] = re.findall(r"<textarea id=\"definition\"[^>]*>(.*?)</textarea>", page, re.S)
    return html.unescape(text)


def _config(page: str) -> dict:
    [config] = re.findall(r'data-editor="([^"]*)"', page)
    return json.loads(html.unescape(config))


async def _register_one_of_each(client) -> None:
    await register_workflow(client, sequence("billing", "charge", timeoutPolicy="ALERT_ONLY"))
    await register_workflow(client, {**sequence("billing", "charge", "refund"), "version": 2})
    task_def = {"name": "work", "retryCount": 2, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}
    assert (await client.post("/api/metadata/taskdefs", json=[task_def])).status == 200
    assert (await client.post("/api/event", json=HANDLER)).status == 200
    assert (await client.post("/api/scheduler/schedules", json=SCHEDULE)).status == 200


async def test_each_editor_is_prefilled_with_the_stored_definition(client) -> None:
    await _register_one_of_each(client)

    first = await _page(client, "/edit/workflowDef/billing?version=1")
    definition = json.loads(_textarea(first))
    assert definition["version"] == 1 and definition["timeoutPolicy"] == "ALERT_ONLY"
    assert "createTime" not in definition  # the server keeps it: not editable, not in the diff
    config = _config(first)
    assert config["update"] == {
        "method": "PUT",
        "path": "/api/metadata/workflow",
        "asList": True,
        "errorRoot": "updateWorkflowDefs.workflowDefs[0]",
    }
    assert config["create"]["method"] == "POST" and config["nextVersion"] == 3
    assert config["deletePath"] == "/api/metadata/workflow/billing/1"
    assert config["deleteQuestion"] == "Delete version 1 of the workflow definition billing?"
    assert "Save as a new version (v3)" in first
    latest = json.loads(_textarea(await _page(client, "/edit/workflowDef/billing")))
    assert latest["version"] == 2 and len(latest["tasks"]) == 2
    as_new = await _page(client, "/edit/workflowDef/billing?version=2&asNew=1")
    assert re.search(r'name="asNewVersion" checked', as_new)

    task = await _page(client, "/edit/taskDef/work")
    assert json.loads(_textarea(task))["retryCount"] == 2
    assert _config(task)["deletePath"] == "/api/metadata/taskdefs/work"
    handler = await _page(client, "/edit/eventHandler/on_order")
    assert json.loads(_textarea(handler)) == HANDLER
    assert _config(handler)["update"]["method"] == "PUT"
    schedule = json.loads(_textarea(await _page(client, "/edit/schedule/nightly")))
    assert schedule["cronExpression"] == "0 0 2 * * *" and "nextRunTime" not in schedule


async def test_new_definitions_start_from_a_template(client) -> None:
    for kind, key in [
        ("workflowDef", "tasks"),
        ("taskDef", "retryCount"),
        ("eventHandler", "actions"),
        ("schedule", "cronExpression"),
    ]:
        page = await _page(client, f"/edit/{kind}")
        assert key in json.loads(_textarea(page))
        config = _config(page)
        assert config["name"] is None and "deletePath" not in config
        assert "data-delete" not in page


async def test_unknown_definitions_are_404_pages(client) -> None:
    await register_workflow(client, sequence("billing", "charge"))
    for path, what in [
        ("/edit/workflowDef/nope", "workflow definition nope"),
        ("/edit/workflowDef/billing?version=7", "workflow definition billing version 7"),
        ("/edit/workflowDef/billing?version=x", "workflow definition billing version x"),
        ("/edit/taskDef/nope", "task definition nope"),
        ("/edit/eventHandler/nope", "event handler nope"),
        ("/edit/schedule/nope", "schedule nope"),
    ]:
        assert f"There is no {what}" in await _page(client, path, 404)


async def test_the_review_diff_shows_changed_lines_against_the_stored_version(client) -> None:
    await register_workflow(client, sequence("billing", "charge", timeoutPolicy="ALERT_ONLY"))
    edited = {**sequence("billing", "charge"), "timeoutPolicy": "TIME_OUT_WF", "schemaVersion": 2}
    body = {"kind": "workflowDef", "name": "billing", "version": 1, "after": edited}
    response = await client.post("/edit/diff", json=body)
    assert response.status == 200
    fragment = await response.text()
    removed = re.findall(r'<tr class="diff-removed">.*?<code>(.*?)</code>', fragment, re.S)
    added = re.findall(r'<tr class="diff-added">.*?<code>(.*?)</code>', fragment, re.S)
    assert [html.unescape(line) for line in removed] == ['  "timeoutPolicy": "ALERT_ONLY",']
    assert [html.unescape(line) for line in added] == ['  "timeoutPolicy": "TIME_OUT_WF",']

    stored = json.loads(_textarea(await _page(client, "/edit/workflowDef/billing")))
    same = await client.post("/edit/diff", json={**body, "after": stored})
    assert "No changes" in await same.text()
    new = await client.post("/edit/diff", json={"kind": "taskDef", "name": None, "after": {}})
    assert "a new definition" in await new.text()
    unknown = await client.post("/edit/diff", json={"kind": "nope", "after": {}})
    assert unknown.status == 400
    assert (await unknown.json())["validationErrors"][0]["path"] == "diff.kind"


async def test_everything_a_definition_carries_is_escaped(client) -> None:
    await register_workflow(client, {**sequence(HOSTILE, HOSTILE), "description": HOSTILE})
    task_def = {"name": HOSTILE, "description": HOSTILE}
    assert (await client.post("/api/metadata/taskdefs", json=[task_def])).status == 200
    name = quote(HOSTILE, safe="")
    diff = await client.post(
        "/edit/diff",
        json={"kind": "workflowDef", "name": HOSTILE, "after": {"name": HOSTILE, "x": HOSTILE}},
    )
    pages = [
        await _page(client, f"/edit/workflowDef/{name}"),
        await _page(client, f"/edit/taskDef/{name}"),
        await _page(client, f"/workflowDef/{name}"),
        await _page(client, f"/taskDef/{name}"),
        await _page(client, f"/runWorkflow?name={name}"),
        await _page(client, f"/edit/eventHandler/{name}", 404),
        await diff.text(),
    ]
    for page in pages:
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
        assert "<script>window.pwned" not in page
        assert "<img src=x" not in page
    assert json.loads(_textarea(pages[0]))["name"] == HOSTILE  # the textarea gives it back whole
    assert _config(pages[0])["deletePath"] == f"/api/metadata/workflow/{name}/1"


async def test_the_definition_pages_link_the_editors_and_the_run_form(client) -> None:
    await register_workflow(client, sequence("billing", "charge"))
    assert (await client.post("/api/metadata/taskdefs", json=[{"name": "work"}])).status == 200
    workflow = await _page(client, "/workflowDef/billing")
    assert 'href="/edit/workflowDef/billing?version=1"' in workflow
    assert 'href="/edit/workflowDef/billing?version=1&amp;asNew=1"' in workflow
    assert 'href="/runWorkflow?name=billing&amp;version=1"' in workflow
    assert 'data-api="/api/metadata/workflow/billing/1" data-method="DELETE"' in workflow
    task = await _page(client, "/taskDef/work")
    assert 'href="/edit/taskDef/work"' in task
    assert 'data-api="/api/metadata/taskdefs/work" data-method="DELETE"' in task
    assert 'href="/edit/workflowDef"' in await _page(client, "/workflowDefs")
    assert 'href="/edit/taskDef"' in await _page(client, "/taskDefs")
    assert 'href="/runWorkflow"' in workflow  # the nav


async def test_the_run_form_offers_every_workflow_and_its_declared_inputs(client) -> None:
    await register_workflow(client, sequence("billing", "charge", inputParameters=["amount"]))
    await register_workflow(client, sequence("refunds", "charge"))
    page = await _page(client, "/runWorkflow?name=billing")
    assert re.findall(r'<option value="(\w+)"', page) == ["billing", "refunds"]
    assert '<option value="billing" data-inputs="[&#34;amount&#34;]" selected>' in page
    [prefilled] = re.findall(r'<textarea id="run-input"[^>]*>(.*?)</textarea>', page, re.S)
    assert json.loads(html.unescape(prefilled)) == {"amount": ""}
    for strategy in ("FAIL", "RETURN_EXISTING"):
        assert f"<option>{strategy}</option>" in page


async def test_a_viewer_sees_no_write_controls_and_no_editors(client) -> None:
    await register_workflow(client, sequence("billing", "charge"))
    assert (await client.post("/api/metadata/taskdefs", json=[{"name": "work"}])).status == 200
    viewer = await make_key(client, Role.VIEWER)
    signed_in = await client.post(
        "/login", data={"keyId": viewer.key.key_id, "keySecret": viewer.secret}
    )
    assert signed_in.status == 200
    for path in ("/workflowDef/billing", "/taskDef/work", "/workflowDefs", "/taskDefs"):
        page = await _page(client, path)
        assert "/edit/" not in page and "data-api=" not in page, path
    assert 'href="/runWorkflow?' not in await _page(client, "/workflowDef/billing")
    for path in ("/edit/workflowDef/billing", "/edit/taskDef", "/runWorkflow"):
        assert "may look at definitions" in await _page(client, path, 403)
    # The review diff only reads: a viewer may ask for it.
    diff = await client.post(
        "/edit/diff",
        json={"kind": "taskDef", "name": "work", "after": {"name": "work"}},
        headers={"X-CSRF-Token": _csrf(await _page(client, "/taskDefs"))},
    )
    assert diff.status == 200


def _csrf(page: str) -> str:
    [token] = re.findall(r'<meta name="csrf-token" content="([^"]+)">', page)
    return token
