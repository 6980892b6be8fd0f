"""The audit trail of an execution: every audited action, with authentication off or on, says
where it came from and which workflows it touched, and the execution page lists it."""

from __future__ import annotations

import re

import pytest

from conductor.api.keys import AUDIT
from conductor.roles import Role
from tests.integration.api import complete, poll, register_workflow, sequence, start
from tests.integration.auth_helpers import auth, make_key, token_for

pytestmark = pytest.mark.integration


def _text(cell: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


def _rows(page: str) -> list[list[str]]:
    """The audit table's rows, as the text of their cells."""
    [body] = re.findall(r'<table class="audit">.*?<tbody>(.*?)</tbody>', page, re.S)
    return [
        [_text(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_a_terminate_through_the_api_shows_on_the_execution_page(client) -> None:
    await register_workflow(client, sequence("stopped", "a"))
    workflow_id = await start(client, "stopped")
    other = await start(client, "stopped")
    assert (await client.delete(f"/api/workflow/{workflow_id}?reason=done")).status == 200
    page = await (await client.get(f"/execution/{workflow_id}?tab=audit")).text()
    [[when, what, who, via, status]] = _rows(page)
    assert what == f"DELETE /api/workflow/{{workflow_id}} /api/workflow/{workflow_id}"
    assert (who, via, status) == ("anonymous (admin)", "api", "200")  # auth is off
    assert "UTC" in when
    untouched = await (await client.get(f"/execution/{other}?tab=audit")).text()
    assert "No one has acted on this execution." in untouched


async def test_a_bulk_retry_names_each_workflow(client) -> None:
    await register_workflow(client, sequence("flaky", "a"))
    ids = [await start(client, "flaky") for _ in range(3)]
    for task in await poll(client, "work", count=3):
        await complete(client, task, "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="no")
    retried = await client.post(
        "/api/workflow/bulk/retry", json=[*ids, "missing"], headers={"X-Conductor-Client": "ui"}
    )
    assert retried.status == 200
    [entry] = await client.server.app[AUDIT].entries(1)
    assert entry.action == "POST /api/workflow/bulk/retry" and entry.via == "ui"
    assert entry.workflow_ids == tuple(sorted([*ids, "missing"]))
    for workflow_id in ids:
        [row] = _rows(await (await client.get(f"/execution/{workflow_id}?tab=audit")).text())
        assert row[1].startswith("POST /api/workflow/bulk/retry") and row[3] == "ui"
    trail = await (await client.get(f"/api/admin/audit?workflowId={ids[1]}")).json()
    assert [(e["action"], e["via"], e["workflowIds"]) for e in trail] == [
        ("POST /api/workflow/bulk/retry", "ui", [ids[1]])
    ]
    everything = await (await client.get("/api/admin/audit?limit=1")).json()
    assert everything[0]["workflowIds"] == sorted([*ids, "missing"])


async def test_with_keys_the_page_names_the_key_and_shows_the_trail_to_admins(client) -> None:
    await register_workflow(client, sequence("keyed", "a"))
    workflow_id = await start(client, "keyed")
    operator = await make_key(client, Role.OPERATOR)
    admin = await make_key(client, Role.ADMIN)
    paused = await client.put(
        f"/api/workflow/{workflow_id}/pause", headers=auth(await token_for(client, operator))
    )
    assert paused.status == 200
    # Signed in to the UI, its cookie marks the request as the UI's.
    signed_in = await client.post(
        "/login", data={"keyId": admin.key.key_id, "keySecret": admin.secret}, allow_redirects=False
    )
    assert signed_in.status == 302
    page = await (await client.get(f"/execution/{workflow_id}")).text()
    [csrf] = re.findall(r'<meta name="csrf-token" content="([^"]+)">', page)
    resumed = await client.put(
        f"/api/workflow/{workflow_id}/resume", headers={"X-CSRF-Token": csrf}
    )
    assert resumed.status == 200
    rows = _rows(await (await client.get(f"/execution/{workflow_id}?tab=audit")).text())
    assert [(r[1].split()[1], r[2], r[3]) for r in rows] == [
        ("/api/workflow/{workflow_id}/resume", f"{admin.key.key_id} (admin)", "ui"),
        ("/api/workflow/{workflow_id}/pause", f"{operator.key.key_id} (operator)", "api"),
    ]
    # Operators, who act on runs, read who acted on this one; viewers do not.
    viewer = await make_key(client, Role.VIEWER)
    for key, shown in ((operator, True), (viewer, False)):
        client.session.cookie_jar.clear()
        await client.post(
            "/login", data={"keyId": key.key.key_id, "keySecret": key.secret}, allow_redirects=False
        )
        page = await (await client.get(f"/execution/{workflow_id}?tab=audit")).text()
        assert ('<table class="audit">' in page) is shown
        assert (">Audit</a>" in page) is shown
    assert 'aria-current="page">Diagram</a>' in page  # the viewer is shown the diagram instead
