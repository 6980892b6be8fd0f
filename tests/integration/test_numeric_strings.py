"""Integer fields of definitions sent as numeric strings or whole floats are read as integers,
as Conductor's Jackson reader does; anything else in them is still refused."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_task_def_counts_as_strings_are_stored_as_integers(client) -> None:
    body = [
        {
            "name": "counted",
            "retryCount": "3",
            "timeoutSeconds": 60.0,
            "responseTimeoutSeconds": " 30 ",
        }
    ]
    response = await client.post("/api/metadata/taskdefs", json=body)
    assert response.status == 200, await response.text()
    stored = await (await client.get("/api/metadata/taskdefs/counted")).json()
    assert (stored["retryCount"], stored["timeoutSeconds"], stored["responseTimeoutSeconds"]) == (
        3,
        60,
        30,
    )

    updated = {**stored, "retryCount": "5"}
    response = await client.put("/api/metadata/taskdefs", json=updated)
    assert response.status == 200, await response.text()
    assert (await (await client.get("/api/metadata/taskdefs/counted")).json())["retryCount"] == 5


@pytest.mark.parametrize("value", ["three", "3.5", 3.5, "", [3]])
async def test_a_count_that_is_no_integer_is_still_refused(client, value) -> None:
    response = await client.post(
        "/api/metadata/taskdefs", json=[{"name": "miscounted", "retryCount": value}]
    )
    assert response.status == 400, await response.text()
    assert (await client.get("/api/metadata/taskdefs/miscounted")).status == 404


async def test_workflow_def_integers_as_strings_at_every_depth(client) -> None:
    inner = {
        "name": "inner",
        "taskReferenceName": "inner",
        "type": "SIMPLE",
        "startDelay": "0",
        "taskDefinition": {"retryCount": "1", "responseTimeoutSeconds": "10"},
    }
    definition = {
        "name": "counted_flow",
        "version": "2",
        "schemaVersion": "2",
        "timeoutSeconds": "0",
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [[inner]],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["inner"]},
        ],
    }
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 200, await response.text()
    stored = await (await client.get("/api/metadata/workflow/counted_flow?version=2")).json()
    assert (stored["version"], stored["schemaVersion"], stored["timeoutSeconds"]) == (2, 2, 0)
    [[task]] = stored["tasks"][0]["forkTasks"]
    assert task["startDelay"] == 0 and task["taskDefinition"]["retryCount"] == 1

    response = await client.post("/api/workflow", json={"name": "counted_flow", "version": "2"})
    assert response.status == 200, await response.text()
    run = await (await client.get(f"/api/workflow/{await response.text()}")).json()
    assert run["workflowVersion"] == 2
