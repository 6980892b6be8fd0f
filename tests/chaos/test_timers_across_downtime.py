"""R11: durable timers across downtime. WAITs fall due while the server is stopped; each
fires once, none early, soon after the server is back. WAITs of 25 days, 1 year and 5 years
keep their exact due time (no 32-bit milliseconds, no unit mix-up) through the restart.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from conductor.testing.server_process import ServerProcess
from tests.chaos.figures import record
from tests.chaos.workload import wait_workflow
from tests.e2e.ledger import wait_all_completed
from workers import ConductorClient

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

SHORT_S, DOWN_S, RUNS = 2, 5.0, 20
FIRED_BOUND_S = 5.0  # after the restart, by when every WAIT due during the downtime fired
LONG_DAYS = (25, 365, 5 * 365)
DAY_MS = 86_400_000


async def test_timers_due_while_the_server_is_down_fire_once_after(
    server: ServerProcess,
) -> None:
    async with ConductorClient(server.api) as client:
        await client.register_workflow_def(wait_workflow("chaos_short", f"{SHORT_S} seconds"))
        for days in LONG_DAYS:
            await client.register_workflow_def(wait_workflow(f"chaos_{days}d", f"{days} days"))
        short_ids = [await client.start_workflow("chaos_short", {}, version=1) for _ in range(RUNS)]
        long_ids = {
            days: await client.start_workflow(f"chaos_{days}d", {}, version=1) for days in LONG_DAYS
        }
    assert server.stop() == 0, server.log_tail()
    await asyncio.sleep(DOWN_S)  # the downtime itself: every short WAIT falls due in it
    await server.start_async()
    back_at = time.monotonic()
    async with ConductorClient(server.api) as client:
        await wait_all_completed(client, short_ids, timeout=FIRED_BOUND_S)
        fired_s = time.monotonic() - back_at
        shorts = [await client.get_workflow(w, include_tasks=True) for w in short_ids]
        longs = {d: await client.get_workflow(w, include_tasks=True) for d, w in long_ids.items()}
    waits = [run["tasks"] for run in shorts]
    early = sum(t[0]["endTime"] - t[0]["scheduledTime"] < SHORT_S * 1000 for t in waits)
    repeated = sum(len(t) != 1 for t in waits)
    due_errors = {
        days: run["tasks"][0]["waitTimeout"] - run["tasks"][0]["scheduledTime"] - days * DAY_MS
        for days, run in longs.items()
    }
    record(
        "R11 timers across downtime",
        {
            "WAITs due while down": RUNS,
            "down s": DOWN_S,
            "all fired s after the restart": round(fired_s, 2),
            "early": early,
            "fired twice": repeated,
            "25 d / 1 y / 5 y due-time error ms": " / ".join(str(e) for e in due_errors.values()),
        },
    )
    assert early == 0 and repeated == 0
    for days, run in longs.items():
        assert run["status"] == "RUNNING", (days, run["status"])
        assert [t["status"] for t in run["tasks"]] == ["IN_PROGRESS"], days
    assert all(abs(error) < 1000 for error in due_errors.values()), due_errors
