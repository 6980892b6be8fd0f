"""Queue admin endpoints: sizes (plain, by domain, verbose with claimed counts) and requeue."""

from __future__ import annotations

import pytest

from tests.integration.api import complete, poll, register_workflow, sequence, start

pytestmark = pytest.mark.integration


async def test_sizes_and_requeue(client) -> None:
    await register_workflow(client, sequence("q", "a"))
    for _ in range(3):
        await start(client, "q")
    response = await client.get("/api/tasks/queue/size", params={"taskType": "work"})
    assert response.status == 200 and await response.json() == 3
    [claimed] = await poll(client, "work")
    verbose = await (await client.get("/api/tasks/queue/all/verbose")).json()
    assert verbose["work"] == {"a": {"size": 2, "uacked": 1}}
    # Back in the queue for an hour: requeue makes it pollable now.
    assert (await complete(client, claimed, "IN_PROGRESS", callbackAfterSeconds=3600)).status == 200
    for task in await poll(client, "work", count=5):
        assert (await complete(client, task)).status == 200
    assert await poll(client, "work") == []
    response = await client.post("/api/tasks/queue/requeue/work")
    assert response.status == 200 and await response.text() == "1"
    [again] = await poll(client, "work")
    assert again["taskId"] == claimed["taskId"]


async def test_size_by_domain_and_missing_type(client) -> None:
    await register_workflow(client, sequence("qd", "a"))
    response = await client.post(
        "/api/workflow", json={"name": "qd", "taskToDomain": {"work": "blue"}}
    )
    assert response.status == 200
    params = {"taskType": "work", "domain": "blue"}
    assert await (await client.get("/api/tasks/queue/size", params=params)).json() == 1
    plain = {"taskType": "work"}
    assert await (await client.get("/api/tasks/queue/size", params=plain)).json() == 0
    response = await client.get("/api/tasks/queue/size")
    assert response.status == 400
