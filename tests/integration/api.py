"""Small API helpers for integration tests (they speak the wire format, like a client would)."""

from __future__ import annotations

from typing import Any

JSON_HEADERS = {"Content-Type": "application/json"}


async def register_task_defs(client, *defs: dict[str, Any]) -> None:
    response = await client.post("/api/metadata/taskdefs", json=list(defs))
    assert response.status == 200, await response.text()


async def register_workflow(client, definition: dict[str, Any]) -> None:
    response = await client.post("/api/metadata/workflow?overwrite=true", json=definition)
    assert response.status == 200, await response.text()


def sequence(name: str, *refs: str, task: str = "work", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "tasks": [
            {"name": task, "taskReferenceName": ref, "type": "SIMPLE", "inputParameters": {}}
            for ref in refs
        ],
        **extra,
    }


async def start(client, name: str, workflow_input: dict[str, Any] | None = None) -> str:
    response = await client.post(f"/api/workflow/{name}", json=workflow_input or {})
    assert response.status == 200, await response.text()
    return await response.text()


async def poll(client, task_type: str, count: int = 1, worker: str = "w1") -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/tasks/poll/batch/{task_type}",
        params={"count": count, "timeout": 0, "workerid": worker},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def complete(client, task: dict[str, Any], status: str = "COMPLETED", **fields: Any):
    body = {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": status,
        "outputData": fields.pop("output", {}),
        **fields,
    }
    return await client.post("/api/tasks", json=body)


async def workflow(client, workflow_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/workflow/{workflow_id}")
    assert response.status == 200, await response.text()
    return await response.json()


async def row_counts(client) -> dict[str, int]:
    """Rows per table, to prove that a refused request wrote nothing."""
    from conductor.api.keys import POOL

    pool = client.server.app[POOL]
    counts = {}
    async with pool.acquire() as conn:
        for table in (
            "task_def",
            "workflow_def",
            "workflow",
            "task",
            "task_queue",
            "timer",
            "task_log",
            "event_message",
        ):
            counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return counts


def sub_workflow_task(ref: str, name: str, **extra: Any) -> dict[str, Any]:
    """A SUB_WORKFLOW task of the latest `name` (extra WorkflowTask fields as given)."""
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "SUB_WORKFLOW",
        "subWorkflowParam": {"name": name},
        **extra,
    }
