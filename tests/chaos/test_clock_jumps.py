"""R12: the server host's wall clock jumps; timers keep to the database's clock.

The server runs under libfaketime (Debian's `faketime`), its offset read from a file the test
rewrites mid-run; the monotonic clock is left alone, as an NTP step or a hand-set date leaves
it. Due times are taken from the database's clock (conductor.clock.DatabaseClock), so:

- a jump of +1 hour fires no WAIT early, and times out no task a worker holds;
- a jump of -1 day delays no WAIT already pending.

Each run here is a WAIT of 4 s then a SIMPLE task; when each run is first seen COMPLETED is
taken from the test's own clock, not the server's.
"""

from __future__ import annotations

import asyncio
import glob
import time
from pathlib import Path

import pytest

from tests.chaos import workload
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import Ledger, one_task_workflow
from workers import ConductorClient, TaskResult, TaskResultStatus

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

WAIT_S = 4
RUNS = 20
NAME, PREFIX = "chaos_clock_jump", "chaos_cj"
HELD_NAME, HELD_TYPE = "chaos_clock_held", "chaos_cj_held"


def _libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    assert found, "libfaketime is missing: apt-get install faketime (.ci/run does)"
    return found[0]


def _definitions() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    task_defs: list[dict[str, object]] = [
        {"name": f"{PREFIX}_last", "responseTimeoutSeconds": 10, "retryCount": 0},
        # Held by the test across the jump: an hour would time it out on the host's clock.
        {"name": HELD_TYPE, "responseTimeoutSeconds": 30, "timeoutSeconds": 60, "retryCount": 0},
    ]
    workflows: list[dict[str, object]] = [
        workload.wait_workflow(
            NAME,
            f"{WAIT_S} seconds",
            {"name": f"{PREFIX}_last", "taskReferenceName": "last", "type": "SIMPLE"},
        ),
        one_task_workflow(HELD_NAME, HELD_TYPE, "held"),
    ]
    return task_defs, workflows


async def _completion_times(
    client: ConductorClient, workflow_ids: list[str], timeout: float
) -> dict[str, float]:
    """When (test clock) each run was first seen COMPLETED; fails if one ends otherwise."""
    seen: dict[str, float] = {}

    async def all_done() -> bool:
        for workflow_id in workflow_ids:
            if workflow_id in seen:
                continue
            status = (await client.get_workflow(workflow_id, include_tasks=False))["status"]
            assert status in ("RUNNING", "COMPLETED"), f"{workflow_id} ended {status}"
            if status == "COMPLETED":
                seen[workflow_id] = time.monotonic()
        return len(seen) == len(workflow_ids)

    await wait_until(all_done, timeout=timeout, interval=0.1)
    return seen


async def _jump_phase(
    client: ConductorClient, offset_file: Path, offset: str, held: bool
) -> dict[str, float]:
    """Start RUNS runs, jump the server's clock by `offset` a second later, and measure."""
    started = time.monotonic()
    run_ids = [await client.start_workflow(NAME, {}, version=1) for _ in range(RUNS)]
    held_id = await client.start_workflow(HELD_NAME, {}, version=1) if held else None
    claimed = await client.batch_poll(HELD_TYPE, "holder", 1, 2000) if held else []
    await asyncio.sleep(1.0)  # the runs wait in their WAIT: the jump lands mid-wait
    await asyncio.to_thread(offset_file.write_text, offset)
    jumped = time.monotonic()
    if held:
        [task] = claimed
        await asyncio.sleep(2.0)  # the holder works on, across the jump
        await client.update(
            TaskResult(task.workflow_instance_id, task.task_id, TaskResultStatus.COMPLETED)
        )
    done = await _completion_times(client, run_ids, timeout=WAIT_S + 30)
    waited = [at - started for at in done.values()]
    figures = {
        "earliest run done s": round(min(waited), 2),
        "latest run done s": round(max(waited), 2),
        "jumped at s": round(jumped - started, 2),
    }
    if held_id is not None:
        run = await client.get_workflow(held_id, include_tasks=True)
        figures["held task"] = f"{run['tasks'][0]['status']} ({len(run['tasks'])} attempt)"
    return figures


async def test_wall_clock_jumps_fire_nothing_early_or_late(
    servers: Servers, tmp_path: Path
) -> None:
    offset_file = tmp_path / "faketime"
    offset_file.write_text("+0")
    env = {
        "LD_PRELOAD": _libfaketime(),
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    [server] = servers.start(1, env=env)
    ledger = Ledger()
    task_defs, workflows = _definitions()
    async with ConductorClient(server.api) as client:
        await client.register_task_defs(task_defs)
        for definition in workflows:
            await client.register_workflow_def(definition)
        async with workload.workers([server.api], PREFIX, ledger):
            forward = await _jump_phase(client, offset_file, "+1h", held=True)
            back = await _jump_phase(client, offset_file, "-1d", held=False)
    record("R12 clock jump +1 h", forward)
    record("R12 clock jump -1 d", back)
    # The host's clock jumped an hour ahead: no WAIT fired before its 4 s had passed.
    assert forward["earliest run done s"] >= WAIT_S, forward
    # The server's clock says the held task was claimed an hour ago: it was not timed out.
    assert forward["held task"] == "COMPLETED (1 attempt)", forward
    # The host's clock went a day back: no WAIT waited that day.
    assert back["earliest run done s"] >= WAIT_S, back
    assert back["latest run done s"] < WAIT_S + 15, back

    async def skew_logged() -> bool:
        return "this host's clock is" in server.log_path.read_text()

    await wait_until(skew_logged, timeout=15)  # the clock is read every 10 s
