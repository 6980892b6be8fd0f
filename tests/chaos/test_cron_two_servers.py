"""R13: cron under two servers and downtime. Two schedules fire every second on two servers;
both servers stop for five seconds and one comes back. Every fire time starts exactly one run;
the schedule with catch-up runs each fire time it missed, the one without runs only the
latest (RELIABILITY R13: n8n#7045, camunda#9680).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.chaos.figures import record
from tests.e2e.harness import Servers
from workers import ConductorClient

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

UP_S, DOWN_S, AFTER_S = 4.0, 5.0, 3.0
WORKFLOW = "chaos_cron_target"


def _schedule(name: str, catch_up: bool) -> dict[str, object]:
    return {
        "name": name,
        "cronExpression": "* * * * * ?",  # every second
        "zoneId": "UTC",
        "runCatchupScheduleInstances": catch_up,
        "startWorkflowRequest": {"name": WORKFLOW, "version": 1},
    }


async def _call(method: str, url: str, body: object = None) -> object:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body) as resp,
    ):
        text = await resp.text()
        assert resp.status == 200, text
        return await resp.json() if resp.content_type == "application/json" else text


async def _fire_times(base: str, schedule: str) -> list[int]:
    body = await _call(
        "GET", f"{base}/scheduler/search/executions?scheduleName={schedule}&size=1000"
    )
    assert isinstance(body, dict)
    return sorted(r["scheduledTime"] for r in body["results"] if r["state"] == "EXECUTED")


async def test_each_fire_time_runs_once_across_two_servers_and_downtime(
    servers: Servers,
) -> None:
    first, second = servers.start(2)
    async with ConductorClient(first.api) as client:
        await client.register_workflow_def(
            {
                "name": WORKFLOW,
                "version": 1,
                "schemaVersion": 2,
                "tasks": [{"name": "idle", "taskReferenceName": "idle", "type": "WAIT"}],
            }
        )
        for name, catch_up in (("chaos_catch_up", True), ("chaos_no_catch_up", False)):
            await _call("POST", f"{first.api}/scheduler/schedules", _schedule(name, catch_up))
    await asyncio.sleep(UP_S)  # both servers fire for a while
    assert first.stop() == 0 and second.stop() == 0
    down_from_ms = int(time.time() * 1000)
    await asyncio.sleep(DOWN_S)  # the downtime: five fire times pass with no server
    down_until_ms = int(time.time() * 1000)
    await first.start_async()
    await asyncio.sleep(AFTER_S)  # fires again, catch-up first
    await _call("GET", f"{first.api}/scheduler/admin/pause")
    caught = await _fire_times(first.api, "chaos_catch_up")
    skipped = await _fire_times(first.api, "chaos_no_catch_up")

    def missed(times: list[int]) -> int:
        return sum(down_from_ms + 1000 <= t < down_until_ms for t in times)

    record(
        "R13 cron, two servers and downtime",
        {
            "fire times with catch-up": len(caught),
            "in the downtime": missed(caught),
            "fire times without catch-up": len(skipped),
            "in the downtime without": missed(skipped),
            "fired twice": (len(caught) - len(set(caught))) + (len(skipped) - len(set(skipped))),
        },
    )
    # With catch-up: every second from the first fire time to the last, each once.
    assert caught == list(range(caught[0], caught[-1] + 1000, 1000)), caught
    assert missed(caught) >= 3
    # Without: each fire time once, and of those missed only the latest.
    assert len(skipped) == len(set(skipped))
    assert missed(skipped) <= 1, (down_from_ms, down_until_ms, skipped)
