"""The background services wired up for real: system clock, timer loop, gate and LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio

import pytest

from conductor.app import create_app
from conductor.config import Settings
from tests.integration.api import complete, register_task_defs, register_workflow, sequence, start

pytestmark = pytest.mark.integration


@pytest.fixture
async def live(db_dsn, aiohttp_client):
    return await aiohttp_client(create_app(Settings(database_url=db_dsn)))


async def long_poll(client, task_type: str) -> list[dict]:
    response = await client.get(
        f"/api/tasks/poll/batch/{task_type}", params={"count": 1, "timeout": 5000}
    )
    assert response.status == 200
    return await response.json()


async def test_callback_delay_wakes_a_waiting_long_poll(live) -> None:
    await register_workflow(live, sequence("wf", "a"))
    await start(live, "wf")
    [task] = await long_poll(live, "work")
    loop = asyncio.get_running_loop()
    # Timed from before the update: the server arms the callback while handling it, and the
    # answer may come back a while later on a busy machine.
    began = loop.time()
    await complete(live, task, status="IN_PROGRESS", callbackAfterSeconds=1)
    [again] = await long_poll(live, "work")
    waited = loop.time() - began
    assert again["taskId"] == task["taskId"]
    assert 0.9 <= waited < 3.0


async def test_response_timeout_fires_on_time(live) -> None:
    await register_task_defs(
        live, {"name": "work", "responseTimeoutSeconds": 1, "retryCount": 1, "retryDelaySeconds": 0}
    )
    await register_workflow(live, sequence("wf", "a"))
    await start(live, "wf")
    loop = asyncio.get_running_loop()
    began = loop.time()  # before the claim, which arms the response timeout
    [lost] = await long_poll(live, "work")
    [retry] = await long_poll(live, "work")
    waited = loop.time() - began
    assert retry["retriedTaskId"] == lost["taskId"]
    assert 0.9 <= waited < 3.0


async def test_metrics_and_ui_are_served(live) -> None:
    await register_workflow(live, sequence("wf", "a"))
    await start(live, "wf")
    metrics = await (await live.get("/metrics")).text()
    assert 'conductor_workflows_started_total{workflow_type="wf"} 1.0' in metrics
    page = await live.get("/")
    assert page.status == 200 and "<title>" in await page.text()


async def test_inline_script_runs_without_help(live) -> None:
    definition = {
        "name": "live_inline",
        "tasks": [
            {
                "name": "s",
                "taskReferenceName": "s",
                "type": "INLINE",
                "inputParameters": {"expression": "$.n * 2", "n": "${workflow.input.n}"},
            }
        ],
        "outputParameters": {"doubled": "${s.output.result}"},
    }
    await register_workflow(live, definition)
    response = await live.post(
        "/api/workflow/execute/live_inline/1?waitForSeconds=5", json={"input": {"n": 21}}
    )
    run = await response.json()
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"doubled": 42}
