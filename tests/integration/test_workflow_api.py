from __future__ import annotations

import asyncio

import pytest

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


async def long_poll(client, task_type: str) -> dict:
    """Wait (server-side long poll, up to 5 s) for one task."""
    response = await client.get(
        f"/api/tasks/poll/batch/{task_type}", params={"count": 1, "timeout": 5000}
    )
    [task] = await response.json()
    return task


@pytest.fixture
async def three_steps(client):
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    definition = sequence("three", "a", "b", "c")
    definition["tasks"][0]["inputParameters"] = {"who": "${workflow.input.who}"}
    definition["tasks"][1]["inputParameters"] = {"prev": "${a.output.n}"}
    definition["tasks"][2]["inputParameters"] = {"msg": "sum=${b.output.n}"}
    definition["outputParameters"] = {"final": "${c.output.n}", "msg": "${c.input.msg}"}
    await register_workflow(client, definition)
    return definition


async def test_three_tasks_run_in_sequence_to_completion(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "ada"})
    for expected_input, n in (({"who": "ada"}, 1), ({"prev": 1}, 2), ({"msg": "sum=2"}, 3)):
        [task] = await poll(client, "work")
        assert task["inputData"] == expected_input
        assert task["status"] == "IN_PROGRESS" and task["workerId"] == "w1"
        assert task["workflowTask"]["taskDefinition"]["name"] == "work"
        response = await complete(client, task, output={"n": n})
        assert response.status == 200
        assert response.content_type == "text/plain"
        assert await response.text() == task["taskId"]
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"final": 3, "msg": "sum=2"}
    assert [t["referenceTaskName"] for t in run["tasks"]] == ["a", "b", "c"]
    assert run["workflowName"] == "three" and run["workflowVersion"] == 1
    assert run["endTime"] >= run["startTime"] > 0


async def test_empty_polls(client, three_steps) -> None:
    single = await client.get("/api/tasks/poll/work", params={"workerid": "w"})
    assert single.status == 204
    batch = await client.get("/api/tasks/poll/batch/work", params={"count": 5, "timeout": 10})
    assert batch.status == 200 and await batch.json() == []


async def test_single_poll_returns_one_task(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "x"})
    response = await client.get("/api/tasks/poll/work", params={"workerid": "solo"})
    assert response.status == 200
    task = await response.json()
    assert task["workflowInstanceId"] == workflow_id
    assert task["pollCount"] == 1


async def test_batch_poll_honours_count(client, three_steps) -> None:
    for _ in range(5):
        await start(client, "three", {"who": "x"})
    first = await poll(client, "work", count=3)
    second = await poll(client, "work", count=3)
    assert len(first) == 3 and len(second) == 2
    assert not {t["taskId"] for t in first} & {t["taskId"] for t in second}


async def test_update_v2_returns_the_next_task_of_the_same_type(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "x"})
    [a] = await poll(client, "work")
    body = {
        "workflowInstanceId": workflow_id,
        "taskId": a["taskId"],
        "status": "COMPLETED",
        "outputData": {"n": 1},
        "workerId": "w9",
    }
    response = await client.post("/api/tasks/update-v2", json=body)
    assert response.status == 200
    b = await response.json()
    assert b["referenceTaskName"] == "b" and b["status"] == "IN_PROGRESS" and b["workerId"] == "w9"
    progress = {**body, "taskId": b["taskId"], "status": "IN_PROGRESS", "callbackAfterSeconds": 0}
    assert (await client.post("/api/tasks/update-v2", json=progress)).status == 204


async def test_long_poll_wakes_when_a_task_is_scheduled(client, three_steps) -> None:
    waiting = asyncio.create_task(
        client.get("/api/tasks/poll/batch/work", params={"count": 1, "timeout": 5000})
    )
    await asyncio.sleep(0)  # let the poll start waiting before the workflow starts
    loop = asyncio.get_running_loop()
    began = loop.time()
    workflow_id = await start(client, "three", {"who": "x"})
    response = await waiting
    [task] = await response.json()
    assert task["workflowInstanceId"] == workflow_id
    assert loop.time() - began < 2.0


async def test_start_with_request_body_and_inline_definition(client) -> None:
    inline = sequence("inline_wf", "only", task="adhoc")
    response = await client.post(
        "/api/workflow",
        json={
            "name": "inline_wf",
            "workflowDef": inline,
            "input": {"k": 1},
            "correlationId": "c-1",
            "priority": 7,
            "unknownField": True,
        },
    )
    assert response.status == 200
    workflow_id = await response.text()
    run = await workflow(client, workflow_id)
    assert run["input"] == {"k": 1} and run["priority"] == 7 and run["correlationId"] == "c-1"
    [task] = await poll(client, "adhoc")
    assert task["workflowPriority"] == 7
    assert task["taskDefinition"]["retryCount"] == 3  # ad-hoc TaskDef defaults


async def test_start_unknown_workflow_is_404(client) -> None:
    response = await client.post("/api/workflow", json={"name": "nope", "input": {}})
    assert response.status == 404
    assert (await response.json())["message"] == "No such workflow defined. name=nope, version=null"
    response = await client.post("/api/workflow/nope", json={})
    assert response.status == 404


async def test_status_correlation_and_task_lookup(client, three_steps) -> None:
    response = await client.post(
        "/api/workflow/three", params={"correlationId": "order-7"}, json={"who": "x"}
    )
    workflow_id = await response.text()
    status = await (
        await client.get(f"/api/workflow/{workflow_id}/status", params={"includeOutput": "True"})
    ).json()
    assert status == {
        "workflowId": workflow_id,
        "correlationId": "order-7",
        "output": {},
        "status": "RUNNING",
    }
    found = await (await client.get("/api/workflow/three/correlated/order-7")).json()
    assert [w["workflowId"] for w in found] == [workflow_id]
    assert found[0]["tasks"] == []
    many = await (
        await client.post(
            "/api/workflow/three/correlated?includeClosed=True&includeTasks=True",
            json=["order-7", "x"],
        )
    ).json()
    assert [w["workflowId"] for w in many["order-7"]] == [workflow_id] and many["x"] == []
    assert len(many["order-7"][0]["tasks"]) == 1
    [task] = await poll(client, "work")
    got = await (await client.get(f"/api/tasks/{task['taskId']}")).json()
    assert got["taskId"] == task["taskId"] and got["status"] == "IN_PROGRESS"
    missing = await client.get("/api/tasks/not-a-task")
    assert missing.status == 404


async def test_update_by_reference_name(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "x"})
    response = await client.post(f"/api/tasks/{workflow_id}/a/COMPLETED", json={"n": 5})
    assert response.status == 200
    a_id = await response.text()
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["taskId"] == a_id and run["tasks"][0]["outputData"] == {"n": 5}
    assert run["tasks"][1]["inputData"] == {"prev": 5}


async def test_terminate_and_remove(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "x"})
    response = await client.delete(
        f"/api/workflow/{workflow_id}", params={"reason": "stop"}, json={}
    )
    assert response.status == 200
    run = await workflow(client, workflow_id)
    assert run["status"] == "TERMINATED" and run["reasonForIncompletion"] == "stop"
    assert run["tasks"][0]["status"] == "CANCELED"
    assert await poll(client, "work") == []
    again = await client.delete(f"/api/workflow/{workflow_id}", json={})
    assert again.status == 200
    removed = await client.delete(
        f"/api/workflow/{workflow_id}/remove?archiveWorkflow=False", json={}
    )
    assert removed.status == 200
    assert (await client.get(f"/api/workflow/{workflow_id}")).status == 404
    assert (await client.delete(f"/api/workflow/{workflow_id}/remove", json={})).status == 404


async def test_terminating_a_completed_workflow_is_409(client, three_steps) -> None:
    workflow_id = await start(client, "three", {"who": "x"})
    for _ in range(3):
        [task] = await poll(client, "work")
        await complete(client, task, output={"n": 1})
    response = await client.delete(f"/api/workflow/{workflow_id}", json={})
    assert response.status == 409
    assert (await response.json())["message"] == "Cannot terminate a COMPLETED workflow."


async def test_sync_execute_waits_for_completion(client, three_steps) -> None:
    async def worker() -> None:
        for n in (1, 2, 3):
            await complete(client, await long_poll(client, "work"), output={"n": n})

    worker_task = asyncio.create_task(worker())
    response = await client.post(
        "/api/workflow/execute/three/1?requestId=r-1&waitUntilTaskRef=None&waitForSeconds=10",
        json={"name": "three", "input": {"who": "sync"}},
    )
    await worker_task
    assert response.status == 200
    run = await response.json()
    assert run["status"] == "COMPLETED" and run["output"] == {"final": 3, "msg": "sum=2"}
    assert run["requestId"] == "r-1" and run["responseType"] == "TARGET_WORKFLOW"
    assert len(run["tasks"]) == 3


async def test_sync_execute_returns_when_the_named_task_ends(client, three_steps) -> None:
    async def worker() -> None:
        await complete(client, await long_poll(client, "work"), output={"n": 1})

    worker_task = asyncio.create_task(worker())
    response = await client.post(
        "/api/workflow/execute/three/0?waitUntilTaskRef=a&waitForSeconds=10",
        json={"input": {"who": "sync"}},
    )
    await worker_task
    run = await response.json()
    assert run["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in run["tasks"]] == ["a", "b"]
    assert run["tasks"][0]["status"] == "COMPLETED"


async def test_task_logs_and_queue_views(client, three_steps) -> None:
    await start(client, "three", {"who": "x"})
    sizes = await (await client.get("/api/tasks/queue/sizes", params={"taskType": "work"})).json()
    assert sizes == {"work": 1}
    [task] = await poll(client, "work", worker="host-1")
    assert (await client.get(f"/api/tasks/{task['taskId']}/log")).status == 204
    await client.post(f"/api/tasks/{task['taskId']}/log", data="first line")
    await complete(
        client, task, output={"n": 1}, logs=[{"log": "from result", "taskId": task["taskId"]}]
    )
    logs = await (await client.get(f"/api/tasks/{task['taskId']}/log")).json()
    assert [entry["log"] for entry in logs] == ["first line", "from result"]
    assert all(entry["taskId"] == task["taskId"] and entry["createdTime"] > 0 for entry in logs)
    poll_data = await (
        await client.get("/api/tasks/queue/polldata", params={"taskType": "work"})
    ).json()
    assert poll_data[0]["queueName"] == "work" and poll_data[0]["workerId"] == "host-1"
    assert await (await client.get("/api/tasks/queue/all")).json() == {"work": 1}
