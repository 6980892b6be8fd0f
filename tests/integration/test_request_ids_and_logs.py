"""Request ids on responses and in log records; workflow failures logged with their reason."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web

from conductor import logs
from conductor.api.request_ids import echo_request_id, request_ids
from tests.integration.api import poll, register_task_defs, register_workflow, sequence
from tests.integration.api import start as start_workflow

pytestmark = pytest.mark.integration


async def test_a_given_request_id_is_echoed_and_a_missing_one_is_made(client) -> None:
    given = await client.get("/api/metadata/workflow", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    first = (await client.get("/api/metadata/workflow")).headers["X-Request-Id"]
    second = (await client.get("/health")).headers["X-Request-Id"]
    assert first and second and first != second


async def test_an_unsafe_request_id_is_replaced(client) -> None:
    response = await client.get("/api/nothing-here", headers={"X-Request-Id": "a b\tc" * 50})
    assert response.status == 404
    assert response.headers["X-Request-Id"].isalnum()


async def test_a_failed_workflow_logs_a_warning_with_its_id_and_reason(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    await register_task_defs(client, {"name": "charge", "retryCount": 0})
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    workflow_id = await start_workflow(client, "billing")
    [task] = await poll(client, "charge")
    caplog.set_level(logging.INFO, logger="conductor")
    response = await client.post(
        "/api/tasks",
        json={
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": "FAILED_WITH_TERMINAL_ERROR",
            "reasonForIncompletion": "card declined",
        },
        headers={"X-Request-Id": "req-fail-1"},
    )
    assert response.status == 200
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.name == "conductor.executor"
    assert record.workflow_id == workflow_id
    assert record.workflow_type == "billing"
    assert "card declined" in record.getMessage()
    assert "charge_ref" in record.getMessage()


async def test_a_termination_is_logged_at_info(client, caplog: pytest.LogCaptureFixture) -> None:
    await register_workflow(client, sequence("billing", "a"))
    workflow_id = await start_workflow(client, "billing")
    caplog.set_level(logging.INFO, logger="conductor")
    response = await client.delete(f"/api/workflow/{workflow_id}", params={"reason": "duplicate"})
    assert response.status == 200
    [record] = [r for r in caplog.records if getattr(r, "workflow_id", None) == workflow_id]
    assert record.levelno == logging.INFO
    assert "terminated: duplicate" in record.getMessage()


async def test_records_made_while_handling_a_request_carry_its_id(
    aiohttp_client, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: web.Request) -> web.Response:
        logging.getLogger("conductor.test").warning("handling")
        return web.Response(text="ok")

    app = web.Application(middlewares=[request_ids])
    app.router.add_get("/", handler)
    app.on_response_prepare.append(echo_request_id)
    client = await aiohttp_client(app)
    caplog.handler.addFilter(logs.ContextFilter())
    response = await client.get("/", headers={"X-Request-Id": "req-7"})
    assert response.headers["X-Request-Id"] == "req-7"
    [record] = [r for r in caplog.records if r.name == "conductor.test"]
    assert record.request_id == "req-7"
