"""A running server whose background service meets an unexpected error restarts it: the error is
logged and counted, and the work the service does goes on."""

from __future__ import annotations

import logging

import pytest

from conductor.app import EVENT_PROCESSOR, create_app
from conductor.config import Settings
from tests.conftest import wait_until
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration


async def test_a_crashed_event_processor_is_restarted_and_handles_messages(
    db_dsn, aiohttp_client, monkeypatch, caplog
) -> None:
    app = create_app(Settings(database_url=db_dsn))
    client = await aiohttp_client(app)
    processor = app[EVENT_PROCESSOR]
    handle_messages = processor.run_once
    failures = ["injected bug"]

    async def fails_once() -> int:
        if failures:
            raise RuntimeError(failures.pop())
        return await handle_messages()

    monkeypatch.setattr(processor, "run_once", fails_once)
    await register_workflow(
        client,
        {"name": "held", "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}]},
    )
    workflow_id = await start(client, "held")
    with caplog.at_level(logging.ERROR, logger="conductor.background"):
        response = await client.post(f"/api/queue/update/{workflow_id}/hold/COMPLETED", json={})
        assert response.status == 200

        async def completed() -> bool:
            return (await workflow(client, workflow_id))["status"] == "COMPLETED"

        await wait_until(completed, timeout=15)
    assert not failures  # the injected error was raised
    assert any("event-processor crashed" in r.getMessage() for r in caplog.records)
    metrics = await (await client.get("/metrics")).text()
    assert 'conductor_background_service_crashes_total{service="event-processor"} 1.0' in metrics
