"""The executions and execution pages, rendered by the server: filters, paging, the failure
banner, the task panel, and escaping of everything a workflow carries."""

from __future__ import annotations

import re

import pytest

from conductor.ui import pages
from conductor.ui.formatting import iso_time
from tests.conftest import fire_timers
from tests.integration.api import complete, poll, register_workflow, sequence

pytestmark = pytest.mark.integration

HOSTILE = '<script>window.pwned=1</script>"><img src=x onerror=alert(1)>'


async def _start(client, name: str, correlation_id: str, workflow_input=None) -> str:
    response = await client.post(
        "/api/workflow",
        json={"name": name, "correlationId": correlation_id, "input": workflow_input or {}},
    )
    assert response.status == 200, await response.text()
    return await response.text()


async def _page(client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.text()


def _ids(html: str) -> list[str]:
    return re.findall(r'<a href="/execution/([^"]+)">', html)


async def test_executions_are_found_by_correlation_id_status_and_name(client) -> None:
    await register_workflow(client, sequence("billing", "charge"))
    await register_workflow(client, sequence("refunds", "charge"))
    first = await _start(client, "billing", "customer-1")
    second = await _start(client, "billing", "customer-2")
    other = await _start(client, "refunds", "customer-1")
    [task] = await poll(client, "work")
    await complete(client, task, "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="declined")

    everything = await _page(client, "/executions")
    assert set(_ids(everything)) == {first, second, other}
    assert 'data-api="/api/workflow/bulk/retry"' in everything  # without keys, anyone may act
    by_correlation = await _page(client, "/executions?correlationId=customer-1")
    assert set(_ids(by_correlation)) == {first, other}
    by_name = await _page(client, "/executions?workflowType=billing&correlationId=customer-1")
    assert _ids(by_name) == [first]
    failed = await _page(client, "/executions?status=FAILED")
    assert len(_ids(failed)) == 1
    both = await _page(client, "/executions?workflowType=billing&workflowType=refunds")
    assert len(_ids(both)) == 3
    raw = await _page(client, "/executions?query=workflowType+%3D+refunds")
    assert _ids(raw) == [other]


async def test_paging_and_sorting_links_keep_the_filters(client, clock) -> None:
    await register_workflow(client, sequence("paged", "a"))
    started = []
    for i in range(20):
        started.append(await _start(client, "paged", f"c{i}"))
        clock.advance(1)
    first_page = await _page(client, "/executions?workflowType=paged&size=15")
    assert len(_ids(first_page)) == 15
    [next_link] = re.findall(r'<a href="(/executions\?[^"]+)">Next</a>', first_page)
    next_link = next_link.replace("&amp;", "&")
    assert "workflowType=paged" in next_link and "start=15" in next_link
    second_page = await _page(client, next_link)
    assert len(_ids(second_page)) == 5
    assert set(_ids(first_page)) | set(_ids(second_page)) == set(started)
    ascending = await _page(client, "/executions?workflowType=paged&size=100&sort=startTime:ASC")
    assert _ids(ascending) == started


async def test_columns_are_chosen_in_the_url_and_kept_by_its_links(client, clock) -> None:
    await register_workflow(client, sequence("columns", "a"))
    for i in range(16):
        await _start(client, "columns", f"c{i}")
    [task] = await poll(client, "work")
    await complete(client, task, "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="declined")

    default = await _page(client, "/executions?workflowType=columns&size=15")
    headers = [h.strip() for h in re.findall(r"<th>(?:<a [^>]+>)?([A-Z][a-z ]+)", default)]
    assert headers == [
        "Start time",
        "Workflow",
        "Workflow id",
        "Status",
        "End time",
        "Correlation id",
    ]
    assert "column=" not in default  # the default view keeps short links
    started = clock.now_ms()
    assert f'<time datetime="{iso_time(started)}"' in default  # summaries' times are shown

    chosen = await _page(
        client, "/executions?workflowType=columns&size=15&column=reasonForIncompletion&column=x"
    )
    headers = [h.strip() for h in re.findall(r"<th>(?:<a [^>]+>)?([A-Z][a-z ]+)", chosen)]
    assert headers == ["Workflow id", "Reason"]  # the id stays: it is the run's link
    failed = await _page(client, "/executions?status=FAILED&column=reasonForIncompletion")
    assert re.search(r"<td>Task [^<]* reason: &#39;declined&#39;</td>", failed)
    [next_link] = re.findall(r'<a href="(/executions\?[^"]+)">Next</a>', chosen)
    assert "column=reasonForIncompletion" in next_link and "column=x" not in next_link


async def test_a_bad_query_is_shown_not_a_server_error(client) -> None:
    html = await _page(client, "/executions?query=nosuchfield+%3D+1")
    assert "unknown field" in html
    html = await _page(client, "/executions?from=yesterday")
    assert "Cannot read the time" in html


async def test_the_default_window_is_the_last_72_hours(client, clock) -> None:
    await register_workflow(client, sequence("old", "a"))
    old = await _start(client, "old", "c")
    clock.advance(73 * 3600)
    assert _ids(await _page(client, "/executions")) == []
    assert _ids(await _page(client, "/executions?from=")) == [old]


async def test_the_execution_page_shows_the_failure_and_the_failed_task(client) -> None:
    await register_workflow(client, sequence("declines", "charge"))
    workflow_id = await _start(client, "declines", "c", {"amount": 12})
    [task] = await poll(client, "work")
    await client.post(f"/api/tasks/{task['taskId']}/log", data="calling the bank")
    await complete(
        client,
        task,
        "FAILED_WITH_TERMINAL_ERROR",
        reasonForIncompletion="card declined",
        outputData={"code": "do_not_honor"},
    )
    html = await _page(client, f"/execution/{workflow_id}")
    assert 'role="alert"' in html and "card declined" in html
    [jump] = re.findall(r'<a href="\?task=([^"#]+)#task">Go to the failed task', html)
    assert jump == task["taskId"]
    panel = await _page(client, f"/execution/{workflow_id}?task={jump}")
    assert "do_not_honor" in panel and "calling the bank" in panel
    inputs = await _page(client, f"/execution/{workflow_id}?tab=input")
    assert "&#34;amount&#34;: 12" in inputs
    whole = await _page(client, f"/execution/{workflow_id}?tab=json")
    assert workflow_id in whole


async def test_an_unknown_execution_is_a_404_page(client) -> None:
    html = await _page(client, "/execution/nope", 404)
    assert "There is no execution nope" in html


@pytest.mark.parametrize("tab", ["diagram", "timeline"])
async def test_a_drawing_that_fails_costs_its_panel_not_the_page(
    client, monkeypatch, caplog, tab: str
) -> None:
    await register_workflow(client, sequence("undrawable", "a"))
    workflow_id = await _start(client, "undrawable", "c")

    def broken(*_args, **_kwargs) -> str:
        raise ValueError("a shape the layout does not know")

    monkeypatch.setattr(pages, "render_execution", broken)
    monkeypatch.setattr(pages, "render_timeline", broken)
    html = await _page(client, f"/execution/{workflow_id}?tab={tab}")
    assert "This run could not be drawn" in html
    assert "undrawable" in html and 'data-api="/api/workflow/' in html  # the rest is there
    assert "a shape the layout does not know" in caplog.text


async def test_a_failure_workflow_has_a_page_of_its_own(client) -> None:
    await register_workflow(client, sequence("on_failure", "cleanup", task="cleanup"))
    await register_workflow(client, sequence("fragile", "step", failureWorkflow="on_failure"))
    workflow_id = await _start(client, "fragile", "c")
    [task] = await poll(client, "work")
    await complete(client, task, "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="broken")
    run = await (await client.get(f"/api/workflow/{workflow_id}")).json()
    failure_id = run["output"]["conductor.failure_workflow"]
    await fire_timers(client)
    html = await _page(client, f"/execution/{failure_id}")
    assert 'data-ref="cleanup"' in html and 'data-status="scheduled"' in html
    assert "failedWorkflow" in await _page(client, f"/execution/{failure_id}?tab=input")


async def test_everything_a_workflow_carries_is_escaped(client) -> None:
    definition = sequence(HOSTILE, HOSTILE)
    await register_workflow(client, definition)
    workflow_id = await _start(client, HOSTILE, HOSTILE, {"x": HOSTILE})
    [task] = await poll(client, "work")
    await client.post(f"/api/tasks/{task['taskId']}/log", data=HOSTILE)
    await complete(client, task, "FAILED", reasonForIncompletion=HOSTILE, outputData={"y": HOSTILE})
    pages = [
        await _page(client, "/executions"),
        await _page(client, f"/executions?correlationId={HOSTILE}"),
        await _page(client, f"/execution/{workflow_id}"),
        await _page(client, f"/execution/{workflow_id}?task={task['taskId']}"),
        await _page(client, f"/execution/{workflow_id}?tab=input"),
        await _page(client, f"/execution/{workflow_id}?tab=json"),
        await _page(client, "/search/tasks"),
        await _page(client, f"/search/tasks?workflowType={HOSTILE}&freeText={HOSTILE}"),
        await _page(client, "/taskQueue"),
    ]
    for html in pages[:-1]:
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    for html in pages:
        assert "<script>window.pwned" not in html
        assert "<img src=x" not in html


async def test_actions_follow_the_status_and_the_live_part_updates_only_on_change(client):
    await register_workflow(client, sequence("acts", "a"))
    workflow_id = await _start(client, "acts", "c")
    running = await _page(client, f"/execution/{workflow_id}")
    assert 'data-api="/api/workflow/' in running
    assert ">Pause</button>" in running and ">Terminate</button>" in running
    assert ">Retry</button>" not in running
    assert f'hx-get="/execution/{workflow_id}/changes?since=' in running

    [mark] = re.findall(r"/changes\?since=([^&]+)&amp;", running)
    unchanged = await client.get(f"/execution/{workflow_id}/changes?since={mark}")
    assert unchanged.status == 204
    [task] = await poll(client, "work")  # a poll alone is a change: the task is IN_PROGRESS
    polled = await client.get(f"/execution/{workflow_id}/changes?since={mark}&tab=tasks")
    assert polled.status == 200 and "IN_PROGRESS" in await polled.text()
    await complete(client, task, "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="no")
    changed = await client.get(f"/execution/{workflow_id}/changes?since={mark}")
    assert changed.status == 200
    html = await changed.text()
    assert ">Retry</button>" in html and ">Pause</button>" not in html
    assert "hx-trigger" not in html  # finished: the page stops asking


async def test_task_search_finds_the_failed_tasks_of_a_type(client, clock) -> None:
    await register_workflow(client, sequence("pay", "charge", task="charge"))
    await register_workflow(client, sequence("ship", "box", task="box"))
    paid = [await _start(client, "pay", f"p{i}") for i in range(3)]
    await _start(client, "ship", "s")
    tasks = await poll(client, "charge", count=3)
    await complete(client, tasks[0], "FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="declined")
    await complete(client, tasks[1])
    html = await _page(client, "/search/tasks?taskType=charge&status=FAILED_WITH_TERMINAL_ERROR")
    assert "declined" in html
    assert re.findall(r'href="/execution/([^"?]+)\?task=', html) == [tasks[0]["workflowInstanceId"]]
    every_charge = await _page(client, "/search/tasks?taskType=charge,box")
    assert len(re.findall(r"\?task=", every_charge)) == 4
    clock.advance(2 * 3600)  # older than the default hour
    assert "declined" not in await _page(client, "/search/tasks?taskType=charge")
    assert "declined" in await _page(client, "/search/tasks?taskType=charge&from=")
    assert set(paid) >= {tasks[0]["workflowInstanceId"]}


async def test_definition_pages_list_and_show_every_version(client) -> None:
    await register_workflow(client, sequence("orders", "a", description=HOSTILE))
    await register_workflow(client, {**sequence("orders", "a", "b"), "version": 2})
    await client.post(
        "/api/metadata/taskdefs", json=[{"name": "work", "retryCount": 4, "description": HOSTILE}]
    )
    listing = await _page(client, "/workflowDefs")
    assert '<a href="/workflowDef/orders">orders</a>' in listing
    latest = await _page(client, "/workflowDef/orders")
    assert "v2" in latest and 'href="?version=1"' in latest
    first = await _page(client, "/workflowDef/orders?version=1")
    assert "&#34;version&#34;: 1" in first
    tasks = await _page(client, "/taskDefs")
    assert '<a href="/taskDef/work">work</a>' in tasks and "<td>4</td>" in tasks
    detail = await _page(client, "/taskDef/work")
    for html in (listing, latest, first, tasks, detail):
        assert "<script>window.pwned" not in html
    await _page(client, "/workflowDef/nope", 404)
    await _page(client, "/taskDef/nope", 404)


async def test_the_execution_opens_on_its_diagram(client) -> None:
    definition = {
        "name": "forked",
        "version": 1,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": "work", "taskReferenceName": "left", "type": "SIMPLE"}],
                    [{"name": "work", "taskReferenceName": HOSTILE, "type": "SIMPLE"}],
                ],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["left"]},
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await _start(client, "forked", "c")
    html = await _page(client, f"/execution/{workflow_id}")
    assert re.search(r'<section class="diagram"[^>]*><svg', html)
    assert 'data-zoom="fit"' in html
    assert 'data-ref="left"' in html and "data-status=" in html
    assert "<script>window.pwned" not in html
    definition_page = await _page(client, "/workflowDef/forked")
    assert re.search(r'<section class="diagram"[^>]*><svg', definition_page)
