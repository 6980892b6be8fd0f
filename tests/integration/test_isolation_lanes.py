"""HTTP tasks run in isolation lanes (one per TaskDef isolationGroupId, and a default one): a
slow endpoint fills only its own lane; other lanes and other timers go on, and a call that finds
its lane full is put back for later instead of running beyond the lane's size."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conductor.app import COMPONENTS, TIMER_SERVICE
from conductor.services import lanes
from tests.conftest import fire_timers, wait_until
from tests.integration.api import register_task_defs, register_workflow, start, workflow

pytestmark = pytest.mark.integration


class SlowEndpoint:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0

    async def slow(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return web.json_response({"slow": True})


@pytest.fixture
async def endpoints():
    slow = SlowEndpoint()

    async def fast(request: web.Request) -> web.Response:
        return web.json_response({"fast": True})

    app = web.Application()
    app.router.add_get("/slow", slow.slow)
    app.router.add_get("/fast", fast)
    server = TestServer(app)
    await server.start_server()
    yield server, slow
    slow.release.set()
    await server.close()


def call(name: str, uri: str) -> dict:
    return {
        "name": name,
        "taskReferenceName": name,
        "type": "HTTP",
        "inputParameters": {"http_request": {"uri": uri, "method": "GET", "readTimeOut": 30000}},
    }


async def status(client, workflow_id: str) -> str:
    return (await workflow(client, workflow_id))["status"]


async def test_a_slow_isolation_group_holds_up_only_its_own_lane(
    client, clock, endpoints, monkeypatch
) -> None:
    server, slow = endpoints
    monkeypatch.setattr(lanes, "LANE_WAIT_S", 0.05)
    client.server.app[COMPONENTS].lanes.lane_size = 1
    await register_task_defs(
        client,
        {"name": "slow_call", "isolationGroupId": "slowpoke", "retryCount": 0},
        {"name": "fast_call", "retryCount": 0},
    )
    await register_workflow(
        client, {"name": "slow_wf", "tasks": [call("slow_call", str(server.make_url("/slow")))]}
    )
    await register_workflow(
        client, {"name": "fast_wf", "tasks": [call("fast_call", str(server.make_url("/fast")))]}
    )
    await register_workflow(
        client,
        {
            "name": "waits",
            "tasks": [
                {
                    "name": "pause",
                    "taskReferenceName": "pause",
                    "type": "WAIT",
                    "inputParameters": {"duration": "10 seconds"},
                }
            ],
        },
    )
    first = await start(client, "slow_wf")
    second = await start(client, "slow_wf")
    fast = await start(client, "fast_wf")
    waiting = await start(client, "waits")
    service = client.server.app[TIMER_SERVICE]
    firing = asyncio.create_task(service.run_once())
    # One slow call runs; the other finds the lane full and is put back.
    await wait_until(lambda: _is(slow.in_flight, 1))
    await wait_until(lambda: _postponed(client, "slowpoke", 1))
    # Meanwhile the default lane and other timers are not held up.
    await wait_until(lambda: _has_status(client, fast, "COMPLETED"))
    clock.advance(10)
    await service.run_once()
    assert await status(client, waiting) == "COMPLETED"
    assert {await status(client, first), await status(client, second)} == {"RUNNING"}
    slow.release.set()
    await firing
    clock.advance(1)  # the put-back call is due again
    await fire_timers(client)
    assert await status(client, first) == "COMPLETED"
    assert await status(client, second) == "COMPLETED"
    assert slow.most_in_flight == 1


async def _is(value: int, expected: int) -> bool:
    return value == expected


async def _postponed(client, lane: str, count: int) -> bool:
    text = await (await client.get("/metrics")).text()
    return f'conductor_system_tasks_postponed_total{{lane="{lane}"}} {float(count)}' in text


async def _has_status(client, workflow_id: str, expected: str) -> bool:
    return await status(client, workflow_id) == expected
