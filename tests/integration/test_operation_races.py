"""Operator actions racing worker results: parallel completions of forked tasks while pause and
resume arrive at the same time must always end in one correct state."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.api import complete, poll, register_task_defs, register_workflow, workflow

pytestmark = pytest.mark.integration

ROUNDS = 1000
LANES = 10  # workflows raced at once; each lane has its own task types, so polls never mix


def fork_flow(lane: int) -> dict:
    branch = [
        [{"name": f"p{lane}", "taskReferenceName": f"p{i}", "type": "SIMPLE"}] for i in range(3)
    ]
    return {
        "name": f"race{lane}",
        "version": 1,
        "tasks": [
            {"name": "fork", "taskReferenceName": "fork", "type": "FORK_JOIN", "forkTasks": branch},
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["p0", "p1", "p2"],
            },
            {"name": f"fin{lane}", "taskReferenceName": "after", "type": "SIMPLE"},
        ],
    }


async def race_once(client, lane: int) -> None:
    response = await client.post(f"/api/workflow/race{lane}", json={})
    assert response.status == 200
    workflow_id = await response.text()
    branches = await poll(client, f"p{lane}", count=3)
    assert len(branches) == 3
    results = await asyncio.gather(
        *(complete(client, task) for task in branches),
        client.put(f"/api/workflow/{workflow_id}/pause", json={}),
        client.put(f"/api/workflow/{workflow_id}/resume", json={}),
    )
    *completions, paused, resumed = results
    assert [r.status for r in completions] == [200, 200, 200]
    assert paused.status == 200
    assert resumed.status in (200, 500)  # 500: it ran before the pause (Conductor's answer)
    if (await workflow(client, workflow_id))["status"] == "PAUSED":
        assert (await client.put(f"/api/workflow/{workflow_id}/resume", json={})).status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING"
    by_ref: dict[str, list[str]] = {}
    for task in run["tasks"]:
        by_ref.setdefault(task["referenceTaskName"], []).append(task["status"])
    assert by_ref == {
        "fork": ["COMPLETED"],
        "p0": ["COMPLETED"],
        "p1": ["COMPLETED"],
        "p2": ["COMPLETED"],
        "join": ["COMPLETED"],
        "after": ["SCHEDULED"],
    }
    [after] = await poll(client, f"fin{lane}", count=2)
    assert (await complete(client, after)).status == 200
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_forked_completions_racing_pause_and_resume_end_in_one_state(client) -> None:
    for lane in range(LANES):
        await register_task_defs(
            client, {"name": f"p{lane}", "retryCount": 0}, {"name": f"fin{lane}", "retryCount": 0}
        )
        await register_workflow(client, fork_flow(lane))
    for _ in range(ROUNDS // LANES):
        await asyncio.gather(*(race_once(client, lane) for lane in range(LANES)))
