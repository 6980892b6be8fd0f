"""Sync system tasks end to end through the API and the store."""

from __future__ import annotations

import pytest

from tests.integration.api import complete, poll, register_workflow, start, workflow

pytestmark = pytest.mark.integration

ORDER_FLOW = {
    "name": "order",
    "version": 1,
    "tasks": [
        {
            "name": "remember",
            "taskReferenceName": "remember",
            "type": "SET_VARIABLE",
            "inputParameters": {"region": "${workflow.input.region}"},
        },
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "region",
            "inputParameters": {"region": "${workflow.variables.region}"},
            "decisionCases": {
                "eu": [{"name": "vat", "taskReferenceName": "vat", "type": "SIMPLE"}],
                "none": [
                    {
                        "name": "stop",
                        "taskReferenceName": "stop",
                        "type": "TERMINATE",
                        "inputParameters": {
                            "terminationStatus": "TERMINATED",
                            "workflowOutput": {"why": "no region"},
                        },
                    }
                ],
            },
            "defaultCase": [{"name": "skip", "taskReferenceName": "skip", "type": "NOOP"}],
        },
        {
            "name": "split",
            "taskReferenceName": "split",
            "type": "FORK_JOIN",
            "forkTasks": [
                [{"name": "pack", "taskReferenceName": "pack"}],
                [{"name": "bill", "taskReferenceName": "bill"}],
            ],
        },
        {
            "name": "gather",
            "taskReferenceName": "gather",
            "type": "JOIN",
            "joinOn": ["pack", "bill"],
        },
        {"name": "ok", "taskReferenceName": "ok", "type": "HUMAN"},
    ],
    "outputParameters": {
        "packed": "${gather.output.pack.box}",
        "region": "${workflow.variables.region}",
    },
}


async def test_switch_fork_join_and_human_end_to_end(client) -> None:
    await register_workflow(client, ORDER_FLOW)
    workflow_id = await start(client, "order", {"region": "eu"})
    [vat] = await poll(client, "vat")
    await complete(client, vat, output={"rate": 20})
    [pack] = await poll(client, "pack")
    [bill] = await poll(client, "bill")
    await complete(client, bill)
    await complete(client, pack, output={"box": "B7"})
    run = await workflow(client, workflow_id)
    tasks = {t["referenceTaskName"]: t for t in run["tasks"]}
    assert tasks["route"]["taskType"] == "SWITCH" and tasks["route"]["taskDefName"] == "SWITCH"
    assert tasks["route"]["outputData"] == {"evaluationResult": ["eu"], "selectedCase": "eu"}
    assert tasks["split"]["taskType"] == "FORK"
    assert tasks["gather"]["status"] == "COMPLETED"
    assert tasks["gather"]["outputData"] == {"pack": {"box": "B7"}}
    assert tasks["ok"]["status"] == "IN_PROGRESS"
    assert run["variables"] == {"region": "eu"}
    response = await client.post(f"/api/tasks/{workflow_id}/ok/COMPLETED", json={"by": "ana"})
    assert response.status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"packed": "B7", "region": "eu"}


async def test_terminate_in_a_branch(client) -> None:
    await register_workflow(client, ORDER_FLOW)
    workflow_id = await start(client, "order", {"region": "none"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "TERMINATED"
    assert run["output"] == {"why": "no region"}
    assert [t["referenceTaskName"] for t in run["tasks"]] == ["remember", "route", "stop"]


async def test_default_case(client) -> None:
    await register_workflow(client, ORDER_FLOW)
    workflow_id = await start(client, "order", {"region": "us"})
    run = await workflow(client, workflow_id)
    assert [t["referenceTaskName"] for t in run["tasks"]][:3] == ["remember", "route", "skip"]
    assert {t["referenceTaskName"] for t in run["tasks"]} >= {"pack", "bill", "gather"}


async def test_a_fork_without_join_is_registered_and_its_run_fails_as_in_conductor(
    client,
) -> None:
    definition = {**ORDER_FLOW, "name": "broken", "tasks": ORDER_FLOW["tasks"][2:3]}
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 200
    response = await client.post("/api/workflow", json={"name": "broken", "input": {}})
    run = await (await client.get(f"/api/workflow/{await response.text()}")).json()
    assert run["status"] == "FAILED" and run["tasks"] == []
    assert run["reasonForIncompletion"] == (
        "Fork task definition is not followed by a join task.  Check the blueprint"
    )
