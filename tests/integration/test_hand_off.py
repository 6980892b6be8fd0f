"""Hand-offs: a transaction that makes a task ready claims it for a long-poll waiting on this
server, and the poll answers with it after that commit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conductor.api.keys import EXECUTOR, METRICS
from tests.conftest import wait_until
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    workflow,
)

pytestmark = pytest.mark.integration


def _handed_off(client) -> float:
    registry = client.server.app[METRICS].registry
    return registry.get_sample_value("conductor_tasks_handed_off_total") or 0.0


async def _long_poll(client, task_type: str, worker: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/tasks/poll/batch/{task_type}",
        params={"count": 5, "timeout": 5000, "workerid": worker},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def _waiting_poll(client, task_type: str, worker: str) -> asyncio.Task[Any]:
    """A long-poll, once it is waiting on the server."""
    polling = asyncio.create_task(_long_poll(client, task_type, worker))
    hand_offs = client.server.app[EXECUTOR].hand_offs

    async def waiting() -> bool:
        return hand_offs.first_waiting(task_type) is not None

    await wait_until(waiting)
    return polling


async def test_a_start_hands_its_first_task_to_the_waiting_poll(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    polling = await _waiting_poll(client, "work", "w7")

    workflow_id = await start(client, "two_steps")

    [task] = await polling
    assert task["workflowInstanceId"] == workflow_id
    assert task["referenceTaskName"] == "first"
    assert task["status"] == "IN_PROGRESS" and task["workerId"] == "w7"
    assert task["pollCount"] == 1
    assert _handed_off(client) == 1
    stored = {t["referenceTaskName"]: t for t in (await workflow(client, workflow_id))["tasks"]}
    assert stored["first"]["status"] == "IN_PROGRESS"
    assert stored["first"]["workerId"] == "w7"
    assert await poll(client, "work") == []  # claimed once, not left in the queue


async def test_a_task_result_hands_the_next_task_to_the_waiting_poll(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    workflow_id = await start(client, "two_steps")
    [first] = await poll(client, "work")
    polling = await _waiting_poll(client, "work", "w8")

    response = await complete(client, first)
    assert response.status == 200, await response.text()

    [second] = await polling
    assert second["referenceTaskName"] == "second" and second["workerId"] == "w8"
    assert _handed_off(client) == 1
    await complete(client, second)
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_limited_task_types_are_claimed_by_the_poll_itself(client) -> None:
    """A concurrency-limited type is not handed off (its claims take the limit's lock); the
    poll still gets the task, through its own claim after the wake-up."""
    await register_task_defs(client, {"name": "work", "retryCount": 0, "concurrentExecLimit": 2})
    await register_workflow(client, sequence("one_step", "only"))
    polling = await _waiting_poll(client, "work", "w9")

    workflow_id = await start(client, "one_step")

    [task] = await polling
    assert task["workflowInstanceId"] == workflow_id and task["workerId"] == "w9"
    assert _handed_off(client) == 0


async def test_a_domain_poll_gets_only_its_domains_tasks(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("one_step", "only"))
    hand_offs = client.server.app[EXECUTOR].hand_offs
    polling = asyncio.create_task(
        client.get(
            "/api/tasks/poll/batch/work",
            params={"count": 1, "timeout": 5000, "workerid": "blue-worker", "domain": "blue"},
        )
    )

    async def waiting() -> bool:
        return hand_offs.first_waiting("blue:work") is not None

    await wait_until(waiting)
    plain = await start(client, "one_step")  # no taskToDomain: the default queue
    assert _handed_off(client) == 0
    blue = await client.post(
        "/api/workflow",
        json={"name": "one_step", "taskToDomain": {"work": "blue"}},
    )
    blue_id = await blue.text()

    answer = await polling
    [task] = await answer.json()
    assert task["workflowInstanceId"] == blue_id and task["domain"] == "blue"
    assert _handed_off(client) == 1
    [default] = await poll(client, "work")
    assert default["workflowInstanceId"] == plain
