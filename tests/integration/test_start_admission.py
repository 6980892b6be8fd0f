"""Start admission: new starts wait their turn at a gate while running work goes ahead, and a
full backlog is refused with 429 and Retry-After (services/admission.py)."""

from __future__ import annotations

import asyncio

import pytest

from conductor.api.keys import ADMISSION, WORKFLOWS
from conductor.app import create_app
from conductor.config import Settings
from conductor.metrics import Metrics
from conductor.services.admission import DUE_SOON_S, DueSoonMeter, StartAdmission
from tests.conftest import drain, wait_until
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    row_counts,
    sequence,
    start,
    sub_workflow_task,
    workflow,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def gated(db_dsn, clock, aiohttp_client):
    """One start at a time, and at most one waiting."""
    settings = Settings(
        database_url=db_dsn,
        run_background_services=False,
        start_concurrency=1,
        max_start_backlog=1,
    )
    client = await aiohttp_client(create_app(settings, clock=clock))
    await register_workflow(client, sequence("gated", "a"))
    return client


async def test_a_start_waits_for_a_slot_and_a_full_backlog_is_refused(gated) -> None:
    admission = gated.server.app[ADMISSION]
    async with admission.slot():  # the only slot, held as by a long start
        waiting = asyncio.create_task(gated.post("/api/workflow/gated", json={}))

        async def one_waiting() -> bool:
            return admission.waiting == 1

        await wait_until(one_waiting)
        metrics = await (await gated.get("/metrics")).text()
        assert "conductor_start_backlog 1.0" in metrics
        before = await row_counts(gated)
        refused = await gated.post("/api/workflow/gated", json={})
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "1"
        body = await refused.json()
        assert body["status"] == 429 and body["retryable"] is True
        assert body["message"].startswith("The server is busy: 1 workflow starts are waiting")
        assert await row_counts(gated) == before
        assert not waiting.done()
    response = await waiting
    assert response.status == 200
    run = await workflow(gated, (await response.text()).strip())
    assert run["status"] == "RUNNING"
    metrics = await (await gated.get("/metrics")).text()
    assert "conductor_start_backlog 0.0" in metrics
    assert "conductor_starts_refused_total 1.0" in metrics


async def test_running_work_is_not_held_at_the_gate(gated) -> None:
    """Task results and a sub-workflow's start go ahead while every start slot is taken."""
    await register_workflow(
        gated, {"name": "parent", "tasks": [sub_workflow_task("child", "gated")]}
    )
    parent_id = await start(gated, "parent")
    async with gated.server.app[ADMISSION].slot():
        await drain(gated)  # launches the child through the system-task runner
        child_id = (await workflow(gated, parent_id))["tasks"][0]["subWorkflowId"]
        [task] = await poll(gated, "work")
        assert task["workflowInstanceId"] == child_id
        await complete(gated, task)
        await drain(gated)
        assert (await workflow(gated, parent_id))["status"] == "COMPLETED"


async def test_without_a_gate_starts_are_never_held(db_dsn, clock, aiohttp_client) -> None:
    settings = Settings(database_url=db_dsn, run_background_services=False, start_concurrency=0)
    client = await aiohttp_client(create_app(settings, clock=clock))
    await register_workflow(client, sequence("open", "a"))
    admission = client.server.app[ADMISSION]
    async with admission.slot(), admission.slot():
        ids = await asyncio.gather(*(start(client, "open") for _ in range(5)))
    assert len(set(ids)) == 5 and admission.waiting == 0


async def test_the_due_soon_meter_counts_timers_that_will_fire_and_widens_the_gate(
    client, clock
) -> None:
    """WAITs ending within the horizon count; a claimed task's response timeout (a deadline
    that is dropped when the worker answers) and a WAIT beyond the horizon do not."""
    await register_task_defs(client, {"name": "work", "retryCount": 0, "responseTimeoutSeconds": 5})
    await register_workflow(client, sequence("one_step", "only"))
    for name, duration in (("soon", f"{DUE_SOON_S - 1} seconds"), ("later", "2 hours")):
        await register_workflow(
            client,
            {
                "name": name,
                "tasks": [
                    {
                        "name": "wait",
                        "taskReferenceName": "wait",
                        "type": "WAIT",
                        "inputParameters": {"duration": duration},
                    }
                ],
            },
        )
    for _ in range(3):
        await start(client, "soon")
    await start(client, "later")
    await start(client, "one_step")
    assert len(await poll(client, "work")) == 1  # arms a RESPONSE_TIMEOUT due in 5 s
    admission = StartAdmission(Metrics(), concurrency=8, busy_concurrency=2)
    meter = DueSoonMeter(client.server.app[WORKFLOWS].pool, clock, admission)
    assert admission.limit() == 2

    assert await meter.measure() == 3
    assert admission.limit() == 8
