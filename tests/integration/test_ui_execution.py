"""The execution page's timeline, task list, attempts and task actions. Each action is checked
by making the REST call its form describes, as static/app.js would."""

from __future__ import annotations

import html as markup
import re
from typing import Any

import orjson
import pytest

from conductor.api.keys import AUDIT
from conductor.roles import Role
from tests.conftest import drain
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    sub_workflow_task,
    workflow,
)
from tests.integration.auth_helpers import make_key

pytestmark = pytest.mark.integration

UI = {"X-Conductor-Client": "ui"}
FORM = re.compile(
    r'<form data-api="([^"]+)" data-method="([^"]+)"[^>]*>(.*?)<button>([^<]+)</button>', re.S
)
TEXTAREA = re.compile(r"<textarea [^>]*>(.*?)</textarea>", re.S)


async def sign_in(client, issued) -> None:
    """Through the sign-in form: the client keeps the session cookie."""
    response = await client.post(
        "/login",
        data={"keyId": issued.key.key_id, "keySecret": issued.secret},
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()


async def _page(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.text()


def _forms(page: str) -> dict[str, dict[str, Any]]:
    """The action forms of a page by their button's label."""
    found = {}
    for path, method, inner, label in FORM.findall(page):
        body = TEXTAREA.search(inner)
        found[markup.unescape(label)] = {
            "path": markup.unescape(path),
            "method": method,
            "body": markup.unescape(body.group(1)) if body else None,
        }
    return found


async def _submit(client, form: dict[str, Any], body: Any = None) -> Any:
    """What app.js sends for a form: its method and path, the (edited) JSON body."""
    if body is None and form["body"] is not None:
        body = orjson.loads(form["body"])
    response = await client.request(form["method"], form["path"], json=body, headers=UI)
    assert response.status < 300, await response.text()
    return response


HUMAN_THEN_WORK = {
    "name": "approval",
    "version": 1,
    "tasks": [
        {"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"},
        {"name": "work", "taskReferenceName": "ship", "type": "SIMPLE"},
        {"name": "work", "taskReferenceName": "notify", "type": "SIMPLE"},
    ],
}


async def test_the_timeline_tab_draws_queue_and_run_bars(client, clock) -> None:
    await register_workflow(client, sequence("timed", "a", "b"))
    workflow_id = await start(client, "timed")
    clock.advance(3)
    [task] = await poll(client, "work")
    clock.advance(5)
    await complete(client, task)
    page = await _page(client, f"/execution/{workflow_id}?tab=timeline")
    [svg] = re.findall(r'<section class="timeline">(<svg.*?</svg>)</section>', page, re.S)
    assert svg.count('class="bar queue"') == 3  # legend, a, b (b still waiting)
    assert svg.count('class="bar run"') == 2  # legend, a
    assert '<a href="?tab=timeline" aria-current="page">Timeline</a>' in page


async def test_the_task_list_filters_by_status_and_pages(client, monkeypatch) -> None:
    monkeypatch.setattr("conductor.ui.task_list.PER_PAGE", 2)
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    refs = [f"t{i}" for i in range(5)]
    await register_workflow(client, sequence("many", *refs))
    workflow_id = await start(client, "many")
    for _ in range(4):
        [task] = await poll(client, "work")
        await complete(client, task)
    first = await _page(client, f"/execution/{workflow_id}?tab=tasks&taskStatus=COMPLETED")
    assert "4 tasks" in first and "page 1 of 2" in first
    shown = re.findall(r"<td>(t\d)</td>|>(t\d)</a></td>", first)
    assert [a or b for a, b in shown] == ["t0", "t1"]
    [next_link] = re.findall(r'<a href="(\?[^"]+)">Next</a>', first)
    next_link = markup.unescape(next_link)
    assert "taskStatus=COMPLETED" in next_link and "tab=tasks" in next_link
    second = await _page(client, f"/execution/{workflow_id}{next_link}")
    assert [a or b for a, b in re.findall(r"<td>(t\d)</td>|>(t\d)</a></td>", second)] == [
        "t2",
        "t3",
    ]
    scheduled = await _page(client, f"/execution/{workflow_id}?tab=tasks&taskStatus=SCHEDULED")
    assert "1 task<" in scheduled and ">t4</a>" in scheduled and ">t0</a>" not in scheduled
    # The filter's form keeps the page's other parameters, but not the page number.
    with_task = await _page(client, f"/execution/{workflow_id}?tab=tasks&task=t1&taskPage=2")
    assert '<input type="hidden" name="task" value="t1">' in with_task
    assert 'name="taskPage"' not in with_task


async def test_a_retried_task_shows_which_attempt_and_links_the_others(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 2, "retryDelaySeconds": 0})
    await register_workflow(client, sequence("flaky", "call"))
    workflow_id = await start(client, "flaky")
    ids = []
    for _ in range(2):
        await drain(client)
        [task] = await poll(client, "work")
        ids.append(task["taskId"])
        await complete(client, task, "FAILED", reasonForIncompletion="flaky")
    await drain(client)
    [last] = await poll(client, "work")
    ids.append(last["taskId"])
    page = await _page(client, f"/execution/{workflow_id}?tab=tasks&task={ids[1]}")
    assert "Attempt 2 of 3" in page
    links = re.findall(r'<a href="(\?[^"]+)#task" title="([A-Z_]+)">(\d)</a>', page)
    assert [(markup.unescape(h), s, n) for h, s, n in links] == [
        (f"?tab=tasks&task={ids[0]}", "FAILED", "1"),
        (f"?tab=tasks&task={ids[2]}", "IN_PROGRESS", "3"),
    ]
    # The live part asks for the same view of the page.
    [live] = re.findall(r'hx-get="([^"]+)"', page)
    assert markup.unescape(live).endswith(f"&tab=tasks&task={ids[1]}")


async def test_a_human_task_is_completed_with_output_from_its_panel(client) -> None:
    await register_workflow(client, HUMAN_THEN_WORK)
    workflow_id = await start(client, "approval")
    await drain(client)
    human = (await workflow(client, workflow_id))["tasks"][0]
    page = await _page(client, f"/execution/{workflow_id}?task={human['taskId']}")
    forms = _forms(page)
    complete_form = forms["Complete approve"]
    assert complete_form["path"] == f"/api/tasks/{workflow_id}/approve/COMPLETED"
    assert forms["Fail approve"]["path"].endswith("/approve/FAILED")
    assert complete_form["body"] == "{}"
    await _submit(client, complete_form, {"approvedBy": "ops"})
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"approvedBy": "ops"}
    [signal] = await client.server.app[AUDIT].of_workflow(workflow_id)
    assert signal.action == "POST /api/tasks/{workflow_id}/{ref}/{status}" and signal.via == "ui"

    # A task not reached yet opens by its reference, and a running run may skip it.
    notify = await _page(client, f"/execution/{workflow_id}?task=notify")
    assert "has not reached this task yet" in notify
    await _submit(client, _forms(notify)["Skip notify"])
    [ship] = await poll(client, "work")
    await complete(client, ship)
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    statuses = {t["referenceTaskName"]: t["status"] for t in run["tasks"]}
    assert statuses == {"approve": "COMPLETED", "ship": "COMPLETED", "notify": "SKIPPED"}


async def test_a_finished_run_reruns_from_a_task_with_new_input(client) -> None:
    await register_workflow(client, sequence("twice", "a", "b"))
    workflow_id = await start(client, "twice", {"order": 1})
    for _ in range(2):
        [task] = await poll(client, "work")
        await complete(client, task)
    second = (await workflow(client, workflow_id))["tasks"][1]
    page = await _page(client, f"/execution/{workflow_id}?task={second['taskId']}")
    forms = _forms(page)
    assert "Complete b" not in forms
    rerun = forms["Rerun from this task"]
    body = orjson.loads(rerun["body"])
    assert body == {
        "reRunFromWorkflowId": workflow_id,
        "reRunFromTaskId": second["taskId"],
        "taskInput": second["inputData"],
        "workflowInput": {"order": 1},
    }
    await _submit(client, rerun, {**body, "taskInput": {"again": True}})
    [again] = await poll(client, "work")
    assert again["referenceTaskName"] == "b" and again["inputData"] == {"again": True}


async def test_a_failed_sub_workflow_task_offers_to_retry_inside_it(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("child", "w"))
    await register_workflow(client, {"name": "parent", "tasks": [sub_workflow_task("c", "child")]})
    parent_id = await start(client, "parent")
    await drain(client)
    [task] = await poll(client, "work")
    await complete(client, task, "FAILED", reasonForIncompletion="boom")
    await drain(client)
    sub = (await workflow(client, parent_id))["tasks"][0]
    assert sub["status"] == "FAILED"
    page = await _page(client, f"/execution/{parent_id}?task={sub['taskId']}")
    retry = _forms(page)["Retry inside the sub-workflow"]
    assert retry["path"] == f"/api/workflow/{parent_id}/retry?resumeSubworkflowTasks=true"
    await _submit(client, retry)
    child = await workflow(client, task["workflowInstanceId"])
    assert child["status"] == "RUNNING"
    assert [t["status"] for t in child["tasks"]] == ["FAILED", "SCHEDULED"]


async def test_task_actions_need_the_operate_permission(client) -> None:
    await register_workflow(client, HUMAN_THEN_WORK)
    workflow_id = await start(client, "approval")
    await drain(client)
    human = (await workflow(client, workflow_id))["tasks"][0]
    path = f"/execution/{workflow_id}?task={human['taskId']}"
    await sign_in(client, await make_key(client, Role.OPERATOR))
    assert "Complete approve" in await _page(client, path)
    await sign_in(client, await make_key(client, Role.VIEWER))
    page = await _page(client, path)
    assert "approve" in page and "data-api=" not in page


async def test_the_loop_iteration_picker_keeps_the_page(client) -> None:
    definition = {
        "name": "loops",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.step.more == true",
                "loopOver": [{"name": "work", "taskReferenceName": "step", "type": "SIMPLE"}],
            }
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "loops")
    for more in (True, False):
        await drain(client)
        [task] = await poll(client, "work")
        await complete(client, task, output={"more": more})
    await drain(client)
    last = await _page(client, f"/execution/{workflow_id}?task=x")
    assert "iteration 2 of 2" in last
    [prev] = re.findall(r'<a class="iteration-link" href="([^"]+)"><title>iteration 1', last)
    prev = markup.unescape(prev)
    assert "task=x" in prev and "loop=loop" in prev and "iteration=1" in prev
    first = await _page(client, f"/execution/{workflow_id}{prev}")
    assert "iteration 1 of 2" in first


async def test_hostile_reference_names_stay_text_on_every_new_view(client) -> None:
    hostile = '<script>window.pwned=1</script>"><img src=x onerror=alert(1)>'
    definition = {
        "name": "hostile",
        "tasks": [{"name": "approve", "taskReferenceName": hostile, "type": "HUMAN"}],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "hostile")
    await drain(client)
    [human] = (await workflow(client, workflow_id))["tasks"]
    base = f"/execution/{workflow_id}"
    pages = [
        await _page(client, f"{base}?task={human['taskId']}"),
        await _page(client, f"{base}?tab=timeline&task={human['taskId']}"),
        await _page(client, f"{base}?tab=tasks&taskStatus=IN_PROGRESS"),
    ]
    await _submit(client, _forms(pages[0])[f"Complete {hostile}"], {})
    pages.append(await _page(client, f"{base}?tab=audit"))
    for page in pages:
        assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in pages[0]
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"
