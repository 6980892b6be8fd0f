"""The operations pages: the queue monitor, schedules, event handlers and pending timers. What
they show, their filters, their actions (REST calls, offered only to operators) and escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from conductor.app import SCHEDULE_SERVICE
from conductor.roles import Role
from conductor.ui.formatting import utc_time
from tests.integration.api import poll, register_workflow, sequence, start
from tests.integration.auth_helpers import auth, make_key, token_for

pytestmark = pytest.mark.integration

HOSTILE = "<script>window.pwned=1</script>"
ESCAPED = "&lt;script&gt;window.pwned=1&lt;/script&gt;"
START = int(datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000


async def _page(client, path: str, status: int = 200, **kwargs) -> str:
    response = await client.get(path, **kwargs)
    assert response.status == status, await response.text()
    return await response.text()


def _row(html: str, attribute: str, key: str) -> str:
    """The table row whose data attribute is `key` (escaped as the page writes it)."""
    found = re.search(rf'<tr {attribute}="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, html
    return found.group(0)


def _schedule(name: str, cron: str = "0 0 * * * ?", **extra) -> dict:
    return {
        "name": name,
        "cronExpression": cron,
        "zoneId": "UTC",
        "startWorkflowRequest": {"name": "charge", "version": 1},
        **extra,
    }


def _handler(name: str, active: bool = True) -> dict:
    return {
        "name": name,
        "event": "conductor:billing:paid",
        "active": active,
        "condition": "$.amount > 5",
        "actions": [
            {"action": "complete_task", "complete_task": {"workflowId": "x", "taskRefName": "y"}},
            {"action": "start_workflow", "start_workflow": {"name": "charge"}},
        ],
    }


async def _viewer_headers(client) -> dict[str, str]:
    return auth(await token_for(client, await make_key(client, Role.VIEWER)))


# Task queues


async def test_the_queue_monitor_shows_depth_workers_and_age(client, clock) -> None:
    await register_workflow(client, sequence("pick", "a", task="pack"))
    for _ in range(4):
        await start(client, "pick")
    await poll(client, "pack", worker="packer-7")
    await poll(client, "pack", worker="packer-8")
    clock.advance(90)
    html = await _page(client, "/taskQueue")
    row = _row(html, "data-queue", "pack")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1:6] == ["", "2", "2", "1 min 30 s", "2"]  # domain, size, ready, age, workers
    assert "packer-8" in cells[7]
    # Work waiting and no poll for 90 s: flagged.
    assert 'class="nobody-polling"' in row and "nobody polling" in row
    await poll(client, "pack", worker="packer-7")
    assert 'class="nobody-polling"' not in _row(
        await _page(client, "/taskQueue"), "data-queue", "pack"
    )


async def test_queues_with_a_domain_and_the_name_filter(client) -> None:
    await register_workflow(client, sequence("pick", "a", task="pack"))
    await register_workflow(client, sequence("ship", "a", task="label"))
    response = await client.post(
        "/api/workflow", json={"name": "pick", "taskToDomain": {"pack": "eu"}}
    )
    assert response.status == 200, await response.text()
    await start(client, "ship")
    html = await _page(client, "/taskQueue")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", _row(html, "data-queue", "eu:pack"), re.S)
    assert ">pack</a>" in cells[0] and cells[1] == "eu" and cells[2] == "1"
    filtered = await _page(client, "/taskQueue?name=PAC")
    assert 'data-queue="eu:pack"' in filtered and 'data-queue="label"' not in filtered
    assert "No queue matches." in await _page(client, "/taskQueue?name=nothing")


async def test_the_queue_monitor_refreshes_itself_at_the_chosen_interval(client) -> None:
    default = await _page(client, "/taskQueue")
    assert 'hx-trigger="every 10s"' in default and 'hx-select="#queues"' in default
    chosen = await _page(client, "/taskQueue?refresh=30&name=a%26b")
    assert 'hx-trigger="every 30s"' in chosen
    assert 'hx-get="/taskQueue?name=a%26b&amp;refresh=30"' in chosen
    assert 'hx-trigger="every 10s"' in await _page(client, "/taskQueue?refresh=7")


async def test_a_hostile_queue_name_is_escaped(client) -> None:
    await poll(client, "evil", worker=HOSTILE)
    html = await _page(client, "/taskQueue")
    assert HOSTILE not in html and ESCAPED in html


# Schedules


@pytest.fixture
async def charge(client, clock):
    clock.set(START)  # 2024-01-01 00:00:30 UTC
    await register_workflow(client, sequence("charge", "c"))


async def _save_schedule(client, body: dict) -> None:
    response = await client.post("/api/scheduler/schedules", json=body)
    assert response.status == 200, await response.text()


async def test_schedules_list_with_next_fire_times_and_filter(client, charge) -> None:
    await _save_schedule(client, _schedule("hourly"))
    await _save_schedule(client, _schedule("berlin", "0 30 9 * * ?", zoneId="Europe/Berlin"))
    await _save_schedule(client, _schedule("held", paused=True))
    html = await _page(client, "/scheduleDefs")
    hourly = _row(html, "data-schedule", "hourly")
    hours = [utc_time(START - 30_000 + h * 60 * MINUTE) for h in (1, 2, 3)]
    assert re.findall(r'title="([^"]+)"', hourly) == hours
    assert "v1" in hourly and "status-ACTIVE" in hourly
    assert 'data-api="/api/scheduler/schedules/hourly/pause"' in hourly
    berlin = _row(html, "data-schedule", "berlin")
    # 09:30 in Berlin is 08:30 UTC in winter.
    assert re.findall(r'title="([^"]+)"', berlin)[0] == "2024-01-01 08:30:00 UTC"
    held = _row(html, "data-schedule", "held")
    assert "status-PAUSED" in held and "<time" not in held
    assert 'data-api="/api/scheduler/schedules/held/resume"' in held
    paused_only = await _page(client, "/scheduleDefs?state=paused")
    assert 'data-schedule="held"' in paused_only and 'data-schedule="hourly"' not in paused_only
    active_only = await _page(client, "/scheduleDefs?state=active")
    assert 'data-schedule="held"' not in active_only and 'data-schedule="berlin"' in active_only
    assert 'href="/edit/schedule"' in html


async def test_a_paused_scheduler_is_shown_and_only_admins_toggle_it(client, charge) -> None:
    await _save_schedule(client, _schedule("hourly"))
    running = await _page(client, "/scheduleDefs")
    assert 'data-scheduler="paused"' not in running
    assert 'data-api="/api/scheduler/admin/pause"' in running
    assert (await client.get("/api/scheduler/admin/pause")).status == 200
    paused = await _page(client, "/scheduleDefs")
    assert 'data-scheduler="paused"' in paused
    assert 'data-api="/api/scheduler/admin/resume"' in paused
    operator = auth(await token_for(client, await make_key(client, Role.OPERATOR)))
    as_operator = await _page(client, "/scheduleDefs", headers=operator)
    assert 'data-scheduler="paused"' in as_operator
    assert "/api/scheduler/admin/" not in as_operator
    assert 'data-api="/api/scheduler/schedules/hourly/pause"' in as_operator


async def test_a_schedule_page_shows_next_runs_and_recent_runs(client, clock, charge) -> None:
    await _save_schedule(client, _schedule("minutely", "0 * * * * ?"))
    clock.advance(30)  # 00:01:00, the first fire time
    assert await client.server.app[SCHEDULE_SERVICE].run_once() == 1
    [run] = (
        await (await client.get("/api/scheduler/search/executions?scheduleName=minutely")).json()
    )["results"]
    html = await _page(client, "/scheduleDef/minutely")
    next_runs = re.search(r'<ol class="next-runs">(.*?)</ol>', html, re.S)
    assert next_runs is not None
    expected = [utc_time(START + 30_000 + m * MINUTE) for m in range(1, 6)]
    assert re.findall(r'title="([^"]+)"', next_runs.group(1)) == expected
    assert f'<a href="/execution/{run["workflowId"]}">' in html
    assert "status-EXECUTED" in html
    assert 'href="/edit/schedule/minutely"' in html
    assert 'data-method="DELETE"' in html and 'data-then="/scheduleDefs"' in html
    assert '"cronExpression": "0 * * * * ?"' in unescape(html)


async def test_schedule_pages_escape_names_and_404(client, charge) -> None:
    await _save_schedule(client, _schedule(HOSTILE, description=HOSTILE))
    for path in ("/scheduleDefs", "/scheduleDef/%3Cscript%3Ewindow.pwned%3D1%3C%2Fscript%3E"):
        html = await _page(client, path)
        assert HOSTILE not in html and ESCAPED in html
    missing = await _page(client, "/scheduleDef/nope", 404)
    assert "schedule nope" in missing


async def test_pausing_from_the_page_is_the_rest_call(client, charge) -> None:
    await _save_schedule(client, _schedule("hourly"))
    html = await _page(client, "/scheduleDefs")
    [path] = re.findall(r'data-api="([^"]+)" data-method="PUT"', html)
    assert (await client.put(path)).status == 200
    assert "status-PAUSED" in _row(await _page(client, "/scheduleDefs"), "data-schedule", "hourly")


# Event handlers


async def _save_handler(client, body: dict) -> None:
    response = await client.post("/api/event", json=body)
    assert response.status == 200, await response.text()


async def test_event_handlers_list_filter_and_toggle(client) -> None:
    await _save_handler(client, _handler("on_paid"))
    await _save_handler(client, _handler("dormant", active=False))
    html = await _page(client, "/eventHandlerDefs")
    row = _row(html, "data-handler", "on_paid")
    assert "complete_task, start_workflow" in row and "$.amount &gt; 5" in row
    assert "conductor:billing:paid" in row and "status-ACTIVE" in row
    assert "status-INACTIVE" in _row(html, "data-handler", "dormant")
    active = await _page(client, "/eventHandlerDefs?state=active")
    assert 'data-handler="on_paid"' in active and 'data-handler="dormant"' not in active
    inactive = await _page(client, "/eventHandlerDefs?state=inactive")
    assert 'data-handler="dormant"' in inactive and 'data-handler="on_paid"' not in inactive
    # The toggle is PUT /api/event with the handler as its body, the flag flipped.
    body = re.search(r'data-method="PUT" data-confirm="[^"]*" data-body="([^"]+)"', row)
    assert body is not None
    sent = unescape(body.group(1))
    response = await client.put(
        "/api/event", data=sent, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, await response.text()
    after = await _page(client, "/eventHandlerDefs")
    assert "status-INACTIVE" in _row(after, "data-handler", "on_paid")


async def test_an_event_handler_page_escapes_and_404s(client) -> None:
    hostile = {**_handler(HOSTILE), "condition": HOSTILE}
    await _save_handler(client, hostile)
    for path in (
        "/eventHandlerDefs",
        "/eventHandlerDef/%3Cscript%3Ewindow.pwned%3D1%3C%2Fscript%3E",
    ):
        html = await _page(client, path)
        assert HOSTILE not in html and ESCAPED in html
    await _save_handler(client, _handler("on_paid"))
    view = await _page(client, "/eventHandlerDef/on_paid")
    assert 'href="/edit/eventHandler/on_paid"' in view
    assert 'data-api="/api/event/on_paid" data-method="DELETE"' in view
    assert "event handler nope" in await _page(client, "/eventHandlerDef/nope", 404)


# Timers


def _wait_flow(name: str, duration: str) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "wait",
                "taskReferenceName": "hold",
                "type": "WAIT",
                "inputParameters": {"duration": duration},
            }
        ],
    }


async def test_timers_due_soon_and_bucketed_by_due_time(client, clock) -> None:
    spans = {"soon": "10 minutes", "day": "5 hours", "month": "10 days", "year": "365 days"}
    ids = {}
    for label, duration in spans.items():
        await register_workflow(client, _wait_flow(f"w_{label}", duration))
        ids[label] = await start(client, f"w_{label}")
    await start(client, "w_year")
    html = await _page(client, "/timers")
    wait_row = re.search(r"<th scope=\"row\">WAIT tasks</th>(.*?)</tr>", html, re.S)
    assert wait_row is not None
    counts = re.findall(r'<td class="(\w+)">(\d+)</td>', wait_row.group(1))
    assert counts == [("soon", "1"), ("day", "1"), ("month", "1"), ("later", "2")]
    due = re.search(r'<table class="results due">(.*?)</table>', html, re.S)
    assert due is not None
    assert f'href="/execution/{ids["soon"]}?task=' in due.group(1)
    assert ids["day"] not in due.group(1)
    assert "10 min 00 s" in due.group(1) and "w_soon" in due.group(1) and "hold" in due.group(1)
    wider = await _page(client, "/timers?within=6h")
    assert ids["day"] in wider and ids["month"] not in wider
    # An hour on, the soon one is overdue (not yet fired) and still listed first.
    clock.advance(3600)
    later = await _page(client, "/timers")
    assert "overdue by 50 min 00 s" in later


async def test_timers_of_every_kind(client) -> None:
    await register_workflow(client, _wait_flow("w_soon", "10 minutes"))
    await register_workflow(client, sequence("timed", "a", timeoutSeconds=600))
    timed = await start(client, "timed")
    await start(client, "w_soon")
    assert timed not in await _page(client, "/timers")
    every = await _page(client, "/timers?kind=all")
    assert timed in every and "WORKFLOW_TIMEOUT" in every


# Roles


async def test_a_viewer_sees_the_pages_without_write_controls(client, charge) -> None:
    await _save_schedule(client, _schedule("hourly"))
    await _save_handler(client, _handler("on_paid"))
    headers = await _viewer_headers(client)
    for path in (
        "/scheduleDefs",
        "/scheduleDef/hourly",
        "/eventHandlerDefs",
        "/eventHandlerDef/on_paid",
        "/taskQueue",
        "/timers",
    ):
        html = await _page(client, path, headers=headers)
        assert "data-api=" not in html, path
        assert "/edit/" not in html, path
    assert "hourly" in await _page(client, "/scheduleDefs", headers=headers)
