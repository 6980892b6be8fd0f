"""FORK_JOIN_DYNAMIC in its three input styles, through the API."""

from __future__ import annotations

import pytest

from tests.conftest import drain
from tests.integration.api import complete, poll, register_workflow, start, workflow

pytestmark = pytest.mark.integration

JOIN = {"name": "join", "taskReferenceName": "join", "type": "JOIN"}


async def test_simple_style_forks_one_task_per_input(client) -> None:
    definition = {
        "name": "fanout",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {
                    "forkTaskName": "resize",
                    "forkTaskInputs": "${workflow.input.images}",
                },
            },
            JOIN,
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "fanout", {"images": [{"url": "a"}, {"url": "b"}, "c"]})
    tasks = await poll(client, "resize", count=5)
    assert sorted(t["referenceTaskName"] for t in tasks) == ["_resize_0", "_resize_1", "_resize_2"]
    inputs = {t["referenceTaskName"]: t["inputData"] for t in tasks}
    assert inputs["_resize_0"] == {"url": "a", "__index": 0}
    assert inputs["_resize_2"] == {"input": "c", "__index": 2}
    for task in tasks:
        await complete(client, task, output={"done": task["inputData"]["__index"]})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    fork, join = run["tasks"][0], run["tasks"][-1]
    assert fork["taskType"] == "FORK" and fork["inputData"]["forkedTasks"] == [
        "_resize_0",
        "_resize_1",
        "_resize_2",
    ]
    assert join["inputData"]["joinOn"] == ["_resize_0", "_resize_1", "_resize_2"]
    assert join["outputData"]["_resize_1"] == {"done": 1}


async def test_task_list_style_with_inputs_by_reference(client) -> None:
    definition = {
        "name": "listed",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {
                    "tasks": "${workflow.input.tasks}",
                    "inputs": "${workflow.input.inputs}",
                },
            },
            JOIN,
        ],
    }
    await register_workflow(client, definition)
    tasks = [
        {"name": "ship", "taskReferenceName": "ship_1"},
        {"name": "n", "taskReferenceName": "noop_1", "type": "NOOP"},
    ]
    workflow_id = await start(
        client, "listed", {"tasks": tasks, "inputs": {"ship_1": {"to": "Oslo"}}}
    )
    [ship] = await poll(client, "ship")
    assert ship["inputData"] == {"to": "Oslo"}
    await complete(client, ship)
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_legacy_style_and_empty_fork(client) -> None:
    definition = {
        "name": "legacy",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkJoinTasksParam": "dyn",
                "inputParameters": {"dyn": "${workflow.input.dyn}"},
            },
            JOIN,
        ],
    }
    await register_workflow(client, definition)
    dyn = {
        "dynamicTasks": [
            {"taskName": "ship", "referenceName": "s1", "type": "SIMPLE", "input": {"n": 1}}
        ]
    }
    workflow_id = await start(client, "legacy", {"dyn": dyn})
    [task] = await poll(client, "ship")
    assert task["referenceTaskName"] == "s1" and task["inputData"] == {"n": 1}
    await complete(client, task)
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"
    empty_id = await start(client, "legacy", {"dyn": {"dynamicTasks": []}})
    empty = await workflow(client, empty_id)
    assert empty["status"] == "COMPLETED" and empty["tasks"][-1]["inputData"]["joinOn"] == []


async def test_bad_dynamic_input_fails_the_workflow(client) -> None:
    definition = {
        "name": "bad_fan",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {"tasks": "${workflow.input.tasks}", "inputs": {}},
            },
            JOIN,
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "bad_fan", {"tasks": [{"name": "x"}]})
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert "Cannot deserialize a list of Workflow Tasks" in run["reasonForIncompletion"]
    duplicate_id = await start(
        client,
        "bad_fan",
        {
            "tasks": [
                {"name": "x", "taskReferenceName": "r"},
                {"name": "y", "taskReferenceName": "r"},
            ]
        },
    )
    assert (
        "No dynamic tasks could be created"
        in (await workflow(client, duplicate_id))["reasonForIncompletion"]
    )


async def test_definition_rules(client) -> None:
    no_style = {
        "name": "nostyle",
        "tasks": [{"name": "fan", "taskReferenceName": "fan", "type": "FORK_JOIN_DYNAMIC"}, JOIN],
    }
    assert (await client.post("/api/metadata/workflow", json=no_style)).status == 400
    no_join = {
        "name": "nojoin",
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {"forkTaskInputs": []},
            }
        ],
    }
    # Registered, as by Conductor; the run fails when it reaches the fork.
    assert (await client.post("/api/metadata/workflow", json=no_join)).status == 200
    run = await workflow(client, await start(client, "nojoin", {}))
    assert run["status"] == "FAILED" and run["tasks"] == []
    assert run["reasonForIncompletion"] == (
        "Dynamic join definition is not followed by a join task.  Check the workflow definition."
    )
    await drain(client)
