from __future__ import annotations

import pytest

from tests.integration.api import register_task_defs, sequence

pytestmark = pytest.mark.integration


async def test_task_def_crud(client) -> None:
    await register_task_defs(client, {"name": "a", "retryCount": 1}, {"name": "b"})
    response = await client.get("/api/metadata/taskdefs/a")
    body = await response.json()
    assert body["retryCount"] == 1
    assert body["responseTimeoutSeconds"] == 3600  # Conductor's default is filled in
    assert body["createTime"] > 0
    assert {d["name"] for d in await (await client.get("/api/metadata/taskdefs")).json()} == {
        "a",
        "b",
    }
    response = await client.put("/api/metadata/taskdefs", json={"name": "a", "retryCount": 5})
    assert response.status == 200
    assert (await (await client.get("/api/metadata/taskdefs/a")).json())["retryCount"] == 5
    assert (await client.delete("/api/metadata/taskdefs/a", json={})).status == 200
    missing = await client.get("/api/metadata/taskdefs/a")
    assert missing.status == 404
    body = await missing.json()
    assert body["message"] == "No such taskType found by name: a"
    assert body["status"] == 404 and body["retryable"] is False and "instance" in body


async def test_update_of_unknown_task_def_is_404(client) -> None:
    response = await client.put("/api/metadata/taskdefs", json={"name": "ghost"})
    assert response.status == 404


async def test_invalid_task_def_gets_400_naming_the_field(client) -> None:
    response = await client.post(
        "/api/metadata/taskdefs", json=[{"name": "ok"}, {"name": "bad", "retryCount": -2}]
    )
    assert response.status == 400
    body = await response.json()
    assert body["message"] == "Validation failed, check below errors for detail."
    [error] = body["validationErrors"]
    assert error["path"] == "registerTaskDef.taskDefinitions[1].retryCount"
    assert error["invalidValue"] == -2
    assert (await client.get("/api/metadata/taskdefs/ok")).status == 404  # nothing written


async def test_workflow_def_create_conflict_and_overwrite(client) -> None:
    definition = sequence("wf", "a")
    assert (await client.post("/api/metadata/workflow", json=definition)).status == 200
    conflict = await client.post("/api/metadata/workflow", json=definition)
    assert conflict.status == 409
    assert (await conflict.json())["message"] == "Workflow with wf.1 already exists!"
    definition["description"] = "changed"
    ok = await client.post("/api/metadata/workflow?overwrite=True", json=definition)
    assert ok.status == 200
    got = await (await client.get("/api/metadata/workflow/wf")).json()
    assert got["description"] == "changed"
    assert got["schemaVersion"] == 2


async def test_workflow_def_versions_and_listing(client) -> None:
    v1, v2 = sequence("wf", "a"), {**sequence("wf", "a", "b"), "version": 2}
    response = await client.put("/api/metadata/workflow", json=[v1, v2, sequence("other", "x")])
    assert response.status == 200
    bulk = await response.json()
    assert bulk["bulkSuccessfulResults"] == ["wf", "wf", "other"]
    latest = await (await client.get("/api/metadata/workflow/wf")).json()
    assert latest["version"] == 2
    first = await (await client.get("/api/metadata/workflow/wf", params={"version": 1})).json()
    assert len(first["tasks"]) == 1
    names = await (await client.get("/api/metadata/workflow/names-and-versions")).json()
    assert sorted(v["version"] for v in names["wf"]) == [1, 2]
    latest_all = await (await client.get("/api/metadata/workflow/latest-versions")).json()
    assert {(d["name"], d["version"]) for d in latest_all} == {("wf", 2), ("other", 1)}
    assert len(await (await client.get("/api/metadata/workflow")).json()) == 3
    assert (await client.delete("/api/metadata/workflow/wf/2", json={})).status == 200
    assert (await client.delete("/api/metadata/workflow/wf/2", json={})).status == 404
    missing = await client.get("/api/metadata/workflow/wf", params={"version": 2})
    assert missing.status == 404
    assert (await missing.json())["message"] == "No such workflow found by name: wf, version: 2"


async def test_invalid_workflow_def_gets_400_and_is_not_stored(client) -> None:
    definition = sequence("wf", "a", "a")  # duplicate reference names
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    body = await response.json()
    assert any("should be unique" in e["message"] for e in body["validationErrors"])
    assert (await client.get("/api/metadata/workflow/wf")).status == 404


async def test_validate_endpoint(client) -> None:
    ok = await client.post("/api/metadata/workflow/validate", json=sequence("wf", "a"))
    assert ok.status == 200
    bad = await client.post("/api/metadata/workflow/validate", json={"name": "wf", "tasks": []})
    assert bad.status == 400
