"""Task routing and limits with two server processes on one database: concurrentExecLimit and
rateLimitPerFrequency hold across servers, and taskToDomain picks the first domain with a live
worker, whichever server that worker polls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from conductor.testing.server_process import ServerProcess
from tests.conftest import wait_until
from tests.e2e.harness import Servers

pytestmark = pytest.mark.e2e


def one_task_flow(name: str, task: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "ownerEmail": "e2e@example.com",
        "timeoutSeconds": 0,
        "tasks": [{"name": task, "taskReferenceName": "only", "type": "SIMPLE"}],
    }


async def setup(session: aiohttp.ClientSession, api: str, task_def: dict[str, Any]) -> None:
    async with session.post(f"{api}/metadata/taskdefs", json=[task_def]) as resp:
        assert resp.status == 200, await resp.text()
    flow = one_task_flow(f"{task_def['name']}_flow", task_def["name"])
    async with session.post(f"{api}/metadata/workflow?overwrite=true", json=flow) as resp:
        assert resp.status == 200, await resp.text()


async def start(
    session: aiohttp.ClientSession, api: str, name: str, task_to_domain: dict | None = None
) -> str:
    body: dict[str, Any] = {"name": name, "input": {}}
    if task_to_domain:
        body["taskToDomain"] = task_to_domain
    async with session.post(f"{api}/workflow", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.text()


async def poll(
    session: aiohttp.ClientSession,
    server: ServerProcess,
    task: str,
    count: int = 1,
    domain: str | None = None,
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"count": count, "timeout": 0, "workerid": f"w-{server.port}"}
    if domain:
        params["domain"] = domain
    async with session.get(f"{server.api}/tasks/poll/batch/{task}", params=params) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def complete(
    session: aiohttp.ClientSession, server: ServerProcess, task: dict[str, Any]
) -> None:
    result = {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "outputData": {},
    }
    async with session.post(f"{server.api}/tasks", json=result) as resp:
        assert resp.status == 200, await resp.text()


async def test_concurrent_exec_limit_holds_across_servers(servers: Servers) -> None:
    first, second = servers.start(2)
    async with aiohttp.ClientSession() as session:
        await setup(
            session,
            first.api,
            {"name": "e2e_lim_c", "concurrentExecLimit": 2, "responseTimeoutSeconds": 600},
        )
        for _ in range(8):
            await start(session, first.api, "e2e_lim_c_flow")
        # Twelve polls at once, alternating servers, each asking for three tasks.
        bursts = await asyncio.gather(
            *(poll(session, (first, second)[i % 2], "e2e_lim_c", 3) for i in range(12))
        )
        running = [task for burst in bursts for task in burst]
        assert len(running) == 2
        assert await poll(session, second, "e2e_lim_c", 3) == []
        await complete(session, second, running[0])
        more = await asyncio.gather(
            *(poll(session, (first, second)[i % 2], "e2e_lim_c", 3) for i in range(6))
        )
        assert sum(len(m) for m in more) == 1  # one slot freed, one more task handed out
        for task in [running[1], *[t for m in more for t in m]]:
            await complete(session, first, task)
        again = await asyncio.gather(
            *(poll(session, (first, second)[i % 2], "e2e_lim_c", 3) for i in range(6))
        )
        assert sum(len(a) for a in again) == 2


async def test_rate_limit_holds_across_servers(servers: Servers) -> None:
    first, second = servers.start(2)
    window_s = 4
    async with aiohttp.ClientSession() as session:
        await setup(
            session,
            first.api,
            {
                "name": "e2e_lim_r",
                "rateLimitPerFrequency": 3,
                "rateLimitFrequencyInSeconds": window_s,
                "responseTimeoutSeconds": 600,
            },
        )
        for _ in range(6):
            await start(session, second.api, "e2e_lim_r_flow")
        started = time.monotonic()
        bursts = await asyncio.gather(
            *(poll(session, (first, second)[i % 2], "e2e_lim_r", 2) for i in range(10))
        )
        burst_s = time.monotonic() - started
        assert burst_s < window_s  # the burst fell inside one window
        assert sum(len(b) for b in bursts) == 3
        got: list[dict[str, Any]] = []

        async def next_one() -> bool:
            got.extend(await poll(session, (first, second)[len(got) % 2], "e2e_lim_r", 1))
            return bool(got)

        await wait_until(next_one, timeout=3 * window_s, interval=0.05)
        # Only once the first three starts left the window.
        assert time.monotonic() - started >= window_s - 0.5


async def test_task_to_domain_prefers_a_domain_with_a_live_worker(servers: Servers) -> None:
    first, second = servers.start(2)
    async with aiohttp.ClientSession() as session:
        await setup(session, first.api, {"name": "e2e_dom", "responseTimeoutSeconds": 600})
        mapping = {"e2e_dom": "alpha,beta"}
        # No worker has polled either domain: the last one listed.
        await start(session, first.api, "e2e_dom_flow", mapping)
        assert await poll(session, second, "e2e_dom", 5) == []
        assert await poll(session, second, "e2e_dom", 5, domain="alpha") == []
        [task] = await poll(session, second, "e2e_dom", 5, domain="beta")
        assert task["domain"] == "beta"
        # A worker polls alpha on the second server; once its poll data is saved, a run
        # started on the first server goes to alpha.

        async def alpha_is_live() -> bool:
            await poll(session, second, "e2e_dom", 1, domain="alpha")
            params = {"taskType": "e2e_dom"}
            async with session.get(f"{first.api}/tasks/queue/polldata", params=params) as resp:
                rows = await resp.json()
            return any(r.get("domain") == "alpha" for r in rows)

        await wait_until(alpha_is_live, timeout=15, interval=0.2)
        await start(session, first.api, "e2e_dom_flow", mapping)
        [task] = await poll(session, second, "e2e_dom", 5, domain="alpha")
        assert task["domain"] == "alpha"
        # NO_DOMAIN last: no domain at all when nobody polls the listed ones.
        await start(session, first.api, "e2e_dom_flow", {"e2e_dom": "gamma,NO_DOMAIN"})
        [task] = await poll(session, first, "e2e_dom", 5)
        assert task.get("domain") in (None, "")
