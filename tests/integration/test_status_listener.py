"""workflowStatusListener with a webhook sink: the finished run's summary is POSTed, and an
error answer is retried with back-off until it is accepted."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp import web

from tests.conftest import fire_timers
from tests.integration.api import complete, poll, register_workflow, sequence, start

pytestmark = pytest.mark.integration


@pytest.fixture
async def hook(aiohttp_server):
    """A webhook that answers 500 twice, then 200; it keeps what it was sent."""
    received: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=500 if len(received) <= 2 else 200)

    app = web.Application()
    app.router.add_post("/hook", handler)
    server = await aiohttp_server(app)
    return server, received


async def listener_timers(db_dsn: str) -> int:
    conn = await asyncpg.connect(db_dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM timer WHERE kind = 'STATUS_LISTENER'"))
    finally:
        await conn.close()


async def test_the_summary_is_posted_and_retried_until_accepted(
    client, clock, db_dsn, hook
) -> None:
    server, received = hook
    sink = f"webhook:http://127.0.0.1:{server.port}/hook"
    await register_workflow(
        client,
        sequence(
            "notified", "a", workflowStatusListenerEnabled=True, workflowStatusListenerSink=sink
        ),
    )
    workflow_id = await start(client, "notified", {"order": 7})
    [task] = await poll(client, "work")
    assert (await complete(client, task, output={"done": True})).status == 200
    await fire_timers(client)
    assert len(received) == 1  # 500: tried again in 1 s
    clock.advance(1)
    await fire_timers(client)
    assert len(received) == 2  # 500 again: in 2 s
    clock.advance(1)
    await fire_timers(client)
    assert len(received) == 2  # not due yet
    clock.advance(1)
    await fire_timers(client)
    assert len(received) == 3
    assert await listener_timers(db_dsn) == 0
    summary = received[-1]
    assert summary["workflowId"] == workflow_id and summary["status"] == "COMPLETED"
    assert summary["workflowType"] == "notified" and summary["input"] == "{order=7}"
    assert summary["output"] == "{done=true}"


async def test_no_listener_without_the_flag(client, db_dsn, hook) -> None:
    server, received = hook
    sink = f"http://127.0.0.1:{server.port}/hook"
    await register_workflow(client, sequence("quiet", "a", workflowStatusListenerSink=sink))
    workflow_id = await start(client, "quiet")
    response = await client.delete(f"/api/workflow/{workflow_id}")
    assert response.status == 200
    await fire_timers(client)
    assert received == []
    assert await listener_timers(db_dsn) == 0
