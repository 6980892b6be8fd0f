"""A child run again (retry, restart, rerun) revives its parents (Conductor's
updateAndPushParents), and retry with resumeSubworkflowTasks retries the failed leaf in place."""

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


@pytest.fixture
async def three_levels(client):
    """root -> middle -> leaf; the leaf's one task ("work") has no retries."""
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("leaf", "w"))
    await register_workflow(
        client, {"name": "middle", "tasks": [sub_workflow_task("to_leaf", "leaf")]}
    )
    await register_workflow(
        client,
        {
            "name": "root",
            "tasks": [
                sub_workflow_task("to_middle", "middle"),
                {"name": "after", "taskReferenceName": "z"},
            ],
        },
    )
    await register_task_defs(client, {"name": "after", "retryCount": 0})


async def failed_chain(client) -> tuple[str, str, str]:
    """Start root and fail the leaf's task: every level ends FAILED. Returns the three ids."""
    root_id = await start(client, "root")
    await drain(client)
    middle_id = (await workflow(client, root_id))["tasks"][0]["subWorkflowId"]
    leaf_id = (await workflow(client, middle_id))["tasks"][0]["subWorkflowId"]
    [task] = await poll(client, "work")
    await complete(client, task, status="FAILED", reasonForIncompletion="boom")
    await drain(client)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "FAILED"
    return root_id, middle_id, leaf_id


async def finish_chain(client, root_id: str) -> None:
    """Complete the leaf's task and the root's last task; the whole chain completes."""
    [task] = await poll(client, "work")
    await complete(client, task)
    await drain(client)
    [after] = await poll(client, "after")
    assert after["workflowInstanceId"] == root_id
    await complete(client, after)
    await drain(client)


async def test_retrying_the_leaf_revives_every_parent(client, three_levels) -> None:
    root_id, middle_id, leaf_id = await failed_chain(client)
    assert (await client.post(f"/api/workflow/{leaf_id}/retry")).status == 204
    await drain(client)
    for workflow_id in (middle_id, root_id):
        run = await workflow(client, workflow_id)
        assert run["status"] == "RUNNING"
        assert run.get("reasonForIncompletion") is None
        [sub] = run["tasks"]  # revived in place: no new SUB_WORKFLOW attempt
        assert sub["status"] == "IN_PROGRESS" and sub["retryCount"] == 0
    root_task_id = (await workflow(client, root_id))["tasks"][0]["taskId"]
    logs = await (await client.get(f"/api/tasks/{root_task_id}/log")).json()
    assert [line["log"] for line in logs] == [f"Sub workflow {middle_id} retried."]
    await finish_chain(client, root_id)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_resume_subworkflow_tasks_retries_the_leaf_in_place(client, three_levels) -> None:
    root_id, middle_id, leaf_id = await failed_chain(client)
    response = await client.post(
        f"/api/workflow/{root_id}/retry", params={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204
    leaf = await workflow(client, leaf_id)
    assert leaf["status"] == "RUNNING"
    assert [(t["status"], t["retryCount"]) for t in leaf["tasks"]] == [
        ("FAILED", 0),
        ("SCHEDULED", 1),
    ]
    await drain(client)
    root = await workflow(client, root_id)
    assert root["status"] == "RUNNING"
    assert [t["subWorkflowId"] for t in root["tasks"]] == [middle_id]  # no fresh child
    await finish_chain(client, root_id)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_plain_retry_of_the_root_spawns_a_fresh_child(client, three_levels) -> None:
    root_id, middle_id, _ = await failed_chain(client)
    assert (await client.post(f"/api/workflow/{root_id}/retry")).status == 204
    await drain(client)
    root = await workflow(client, root_id)
    assert root["status"] == "RUNNING"
    first, second = root["tasks"]
    assert first["status"] == "FAILED" and first["subWorkflowId"] == middle_id
    assert second["status"] == "IN_PROGRESS" and second["subWorkflowId"] != middle_id
    assert (await workflow(client, middle_id))["status"] == "FAILED"  # left as it was


async def test_restarting_a_failed_child_revives_its_parent(client, three_levels) -> None:
    root_id, middle_id, leaf_id = await failed_chain(client)
    assert (await client.post(f"/api/workflow/{leaf_id}/restart")).status == 204
    await drain(client)
    assert (await workflow(client, root_id))["status"] == "RUNNING"
    middle = await workflow(client, middle_id)
    assert middle["status"] == "RUNNING" and middle["tasks"][0]["status"] == "IN_PROGRESS"
    await finish_chain(client, root_id)
    assert (await workflow(client, root_id))["status"] == "COMPLETED"


async def test_a_superseded_child_does_not_revive_its_parent(client, three_levels) -> None:
    """The root was retried with a fresh child first; retrying the old child later must not
    touch the root's (superseded) first SUB_WORKFLOW attempt."""
    root_id, middle_id, _ = await failed_chain(client)
    assert (await client.post(f"/api/workflow/{root_id}/retry")).status == 204
    await drain(client)
    before = await workflow(client, root_id)
    assert (await client.post(f"/api/workflow/{middle_id}/retry")).status == 204
    await drain(client)
    after = await workflow(client, root_id)
    assert [t["status"] for t in after["tasks"]] == [t["status"] for t in before["tasks"]]
    assert after["tasks"][0]["status"] == "FAILED"


async def test_an_optional_sub_workflow_does_not_revive_its_parent(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("leaf", "w"))
    await register_workflow(
        client, {"name": "lenient", "tasks": [sub_workflow_task("to_leaf", "leaf", optional=True)]}
    )
    parent_id = await start(client, "lenient")
    await drain(client)
    leaf_id = (await workflow(client, parent_id))["tasks"][0]["subWorkflowId"]
    [task] = await poll(client, "work")
    await complete(client, task, status="FAILED")
    await drain(client)
    parent = await workflow(client, parent_id)
    assert parent["status"] == "COMPLETED"
    assert parent["tasks"][0]["status"] == "COMPLETED_WITH_ERRORS"
    assert (await client.post(f"/api/workflow/{leaf_id}/retry")).status == 204
    await drain(client)
    assert (await workflow(client, parent_id))["status"] == "COMPLETED"


async def test_resume_subworkflow_tasks_refusals_and_no_failed_task(client, three_levels) -> None:
    response = await client.post(
        "/api/workflow/missing/retry", params={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 404
    root_id = await start(client, "root")
    await drain(client)
    response = await client.post(
        f"/api/workflow/{root_id}/retry", params={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 404
    assert "Workflow is still running" in (await response.json())["message"]
    await finish_chain(client, root_id)
    completed = await workflow(client, root_id)
    assert completed["status"] == "COMPLETED"
    # No unsuccessful task anywhere: as in Conductor, nothing happens (a plain retry refuses).
    response = await client.post(
        f"/api/workflow/{root_id}/retry", params={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204
    assert await workflow(client, root_id) == completed
    assert (await client.post(f"/api/workflow/{root_id}/retry")).status == 409


async def test_resume_after_terminate_retries_the_canceled_leaf(client, three_levels) -> None:
    root_id = await start(client, "root")
    await drain(client)
    middle_id = (await workflow(client, root_id))["tasks"][0]["subWorkflowId"]
    leaf_id = (await workflow(client, middle_id))["tasks"][0]["subWorkflowId"]
    await client.delete(f"/api/workflow/{root_id}", params={"reason": "stop"})
    await drain(client)
    assert (await workflow(client, leaf_id))["status"] == "TERMINATED"
    response = await client.post(
        f"/api/workflow/{root_id}/retry", params={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204
    await drain(client)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "RUNNING"
    await finish_chain(client, root_id)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_a_child_that_fails_again_at_once_fails_its_revived_parent(
    client, three_levels
) -> None:
    """The child's retry fails before the parent hears of it: whichever report the parent
    takes first, it must not be left RUNNING over a finished child."""
    root_id, middle_id, leaf_id = await failed_chain(client)
    assert (await client.post(f"/api/workflow/{leaf_id}/retry")).status == 204
    [task] = await poll(client, "work")
    await complete(client, task, status="FAILED", reasonForIncompletion="again")
    await drain(client)
    for workflow_id in (leaf_id, middle_id, root_id):
        assert (await workflow(client, workflow_id))["status"] == "FAILED"


async def test_a_revived_parent_retries_its_other_failed_branch(client) -> None:
    """FORK: branch b fails, which cancels the sub-workflow branch and terminates its child.
    Retrying the child revives the parent: b gets a fresh attempt and the JOIN waits again."""
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_task_defs(client, {"name": "other", "retryCount": 0})
    await register_workflow(client, sequence("leaf", "w"))
    await register_workflow(
        client,
        {
            "name": "forked",
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": [
                        [sub_workflow_task("to_leaf", "leaf")],
                        [{"name": "other", "taskReferenceName": "b"}],
                    ],
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": ["to_leaf", "b"],
                },
            ],
        },
    )
    parent_id = await start(client, "forked")
    await drain(client)
    leaf_id = next(
        t["subWorkflowId"]
        for t in (await workflow(client, parent_id))["tasks"]
        if t["referenceTaskName"] == "to_leaf"
    )
    [b] = await poll(client, "other")
    await complete(client, b, status="FAILED", reasonForIncompletion="b broke")
    await drain(client)
    assert (await workflow(client, parent_id))["status"] == "FAILED"
    assert (await workflow(client, leaf_id))["status"] == "TERMINATED"
    assert (await client.post(f"/api/workflow/{leaf_id}/retry")).status == 204
    await drain(client)
    parent = await workflow(client, parent_id)
    assert parent["status"] == "RUNNING"
    by_ref = {}
    for task in parent["tasks"]:
        by_ref.setdefault(task["referenceTaskName"], []).append(task["status"])
    assert by_ref["to_leaf"] == ["IN_PROGRESS"]
    assert by_ref["b"] == ["FAILED", "SCHEDULED"]
    assert by_ref["join"] == ["IN_PROGRESS"]
    [w] = await poll(client, "work")
    await complete(client, w)
    [b] = await poll(client, "other")
    await complete(client, b)
    await drain(client)
    assert (await workflow(client, parent_id))["status"] == "COMPLETED"
