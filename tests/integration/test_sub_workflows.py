"""SUB_WORKFLOW and START_WORKFLOW: launching, completion and failure both ways, termination."""

from __future__ import annotations

import pytest

from tests.conftest import drain
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    sub_workflow_task,
    workflow,
)

pytestmark = pytest.mark.integration


def sub_task(ref: str, name: str, **params) -> dict:
    return sub_workflow_task(
        ref,
        name,
        subWorkflowParam={"name": name, **params},
        inputParameters={"item": "${workflow.input.item}"},
    )


@pytest.fixture
async def parent_and_child(client):
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    child = sequence("child", "c1")
    child["tasks"][0]["inputParameters"] = {"item": "${workflow.input.item}"}
    child["outputParameters"] = {"packed": "${c1.output.box}"}
    await register_workflow(client, child)
    await register_workflow(
        client,
        {
            "name": "parent",
            "tasks": [sub_task("sub", "child"), {"name": "work", "taskReferenceName": "after"}],
            "outputParameters": {"fromChild": "${sub.output.packed}"},
        },
    )


async def test_child_runs_and_its_output_flows_to_the_parent(client, parent_and_child) -> None:
    response = await client.post(
        "/api/workflow/parent", params={"correlationId": "order-1"}, json={"item": "lamp"}
    )
    parent_id = await response.text()
    await drain(client)
    run = await workflow(client, parent_id)
    sub = run["tasks"][0]
    assert sub["status"] == "IN_PROGRESS" and sub["taskType"] == "SUB_WORKFLOW"
    child_id = sub["subWorkflowId"]
    child = await workflow(client, child_id)
    assert child["parentWorkflowId"] == parent_id and child["parentWorkflowTaskId"] == sub["taskId"]
    assert child["correlationId"] == "order-1" and child["input"] == {"item": "lamp"}
    [task] = await poll(client, "work")
    assert task["workflowInstanceId"] == child_id
    await complete(client, task, output={"box": "B1"})
    await drain(client)
    run = await workflow(client, parent_id)
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"packed": "B1", "subWorkflowId": child_id}
    [after] = await poll(client, "work")
    await complete(client, after)
    assert (await workflow(client, parent_id))["output"] == {"fromChild": "B1"}


async def test_a_failed_child_fails_the_parent(client, parent_and_child) -> None:
    parent_id = await start(client, "parent", {"item": "x"})
    await drain(client)
    [task] = await poll(client, "work")
    await complete(
        client, task, status="FAILED_WITH_TERMINAL_ERROR", reasonForIncompletion="broken"
    )
    await drain(client)
    run = await workflow(client, parent_id)
    assert run["status"] == "FAILED"
    assert run["tasks"][0]["status"] == "FAILED"
    assert "failure reason" in run["tasks"][0]["reasonForIncompletion"]


async def test_terminating_the_parent_terminates_the_child(client, parent_and_child) -> None:
    parent_id = await start(client, "parent", {"item": "x"})
    await drain(client)
    child_id = (await workflow(client, parent_id))["tasks"][0]["subWorkflowId"]
    await client.delete(f"/api/workflow/{parent_id}", params={"reason": "cancelled"}, json={})
    await drain(client)
    child = await workflow(client, child_id)
    assert child["status"] == "TERMINATED"
    assert (
        child["reasonForIncompletion"]
        == "Parent workflow has been terminated with reason: cancelled"
    )


async def test_terminating_the_child_cancels_the_parent_task(client, parent_and_child) -> None:
    parent_id = await start(client, "parent", {"item": "x"})
    await drain(client)
    child_id = (await workflow(client, parent_id))["tasks"][0]["subWorkflowId"]
    await client.delete(f"/api/workflow/{child_id}", json={})
    await drain(client)
    run = await workflow(client, parent_id)
    assert run["tasks"][0]["status"] == "CANCELED"
    assert run["status"] == "TERMINATED"


async def test_inline_sub_workflow_definition_and_unknown_name(client) -> None:
    inline_child = {
        "name": "inline_child",
        "version": 1,
        "tasks": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}],
        # The child's own templates: resolved in the child, never in the parent.
        "outputParameters": {"done": True, "echo": "${workflow.input.item}"},
    }
    await register_workflow(
        client,
        {
            "name": "uses_inline",
            "tasks": [
                {
                    "name": "sub",
                    "taskReferenceName": "sub",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {
                        "name": "inline_child",
                        "workflowDefinition": inline_child,
                    },
                    "inputParameters": {"item": "from-parent"},
                }
            ],
        },
    )
    parent_id = await start(client, "uses_inline", {})
    await drain(client)
    run = await workflow(client, parent_id)
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"]["done"] is True
    assert run["tasks"][0]["outputData"]["echo"] == "from-parent"
    await register_workflow(
        client, {"name": "uses_missing", "tasks": [sub_task("sub", "no_such_flow")]}
    )
    missing_id = await start(client, "uses_missing", {})
    await drain(client)
    missing = await workflow(client, missing_id)
    assert missing["status"] == "FAILED"
    assert "No such workflow defined" in missing["tasks"][0]["reasonForIncompletion"]


async def test_start_workflow_is_fire_and_forget(client, parent_and_child) -> None:
    await register_workflow(
        client,
        {
            "name": "launcher",
            "tasks": [
                {
                    "name": "go",
                    "taskReferenceName": "go",
                    "type": "START_WORKFLOW",
                    "inputParameters": {
                        "startWorkflow": {
                            "name": "child",
                            "input": {"item": "${workflow.input.item}"},
                        }
                    },
                }
            ],
        },
    )
    launcher_id = await start(client, "launcher", {"item": "pen"})
    await drain(client)
    run = await workflow(client, launcher_id)
    assert run["status"] == "COMPLETED"
    launched = run["tasks"][0]["outputData"]["workflowId"]
    other = await workflow(client, launched)
    assert other["status"] == "RUNNING" and other["input"] == {"item": "pen"}
    assert "parentWorkflowId" not in other


async def test_start_workflow_failures(client) -> None:
    await register_workflow(
        client,
        {
            "name": "bad_launcher",
            "tasks": [
                {
                    "name": "go",
                    "taskReferenceName": "go",
                    "type": "START_WORKFLOW",
                    "inputParameters": {"startWorkflow": {"name": "${workflow.input.target}"}},
                }
            ],
        },
    )
    missing_id = await start(client, "bad_launcher", {"target": "nothing_by_this_name"})
    await drain(client)
    missing = await workflow(client, missing_id)
    assert missing["status"] == "FAILED"
    assert "No such workflow defined" in missing["tasks"][0]["reasonForIncompletion"]
    blank_id = await start(client, "bad_launcher", {})
    await drain(client)
    blank = await workflow(client, blank_id)
    assert blank["tasks"][0]["reasonForIncompletion"].startswith("startWorkflow validation failed")
