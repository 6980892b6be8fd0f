"""Read routes Conductor OSS serves that the SDKs call: a run's tasks page by page, workflow
names and versions without their bodies, and the server's version."""

from __future__ import annotations

from importlib import metadata

import pytest

from tests.integration.api import complete, poll, register_workflow, sequence, start

pytestmark = pytest.mark.integration


async def test_a_runs_tasks_come_a_page_at_a_time_filtered_by_status(client) -> None:
    await register_workflow(client, sequence("paged_tasks", "a", "b", "c"))
    workflow_id = await start(client, "paged_tasks")
    for _ in range(2):
        [task] = await poll(client, "work")
        await complete(client, task)

    everything = await (await client.get(f"/api/workflow/{workflow_id}/tasks")).json()
    assert everything["totalHits"] == 3
    assert [t["referenceTaskName"] for t in everything["results"]] == ["a", "b", "c"]
    page = await (
        await client.get(f"/api/workflow/{workflow_id}/tasks", params={"start": 1, "count": 1})
    ).json()
    assert page["totalHits"] == 3 and [t["referenceTaskName"] for t in page["results"]] == ["b"]
    # Statuses repeat or come comma-separated, in any case, as Spring binds them.
    done = await (await client.get(f"/api/workflow/{workflow_id}/tasks?status=completed")).json()
    assert done["totalHits"] == 2
    both = await (
        await client.get(f"/api/workflow/{workflow_id}/tasks?status=COMPLETED,SCHEDULED")
    ).json()
    assert both["totalHits"] == 3
    beyond = await (await client.get(f"/api/workflow/{workflow_id}/tasks?start=10")).json()
    assert beyond == {"totalHits": 3, "results": []}

    missing = await client.get("/api/workflow/nope/tasks")
    assert missing.status == 404
    bad = await client.get(f"/api/workflow/{workflow_id}/tasks?count=x")
    assert bad.status == 400 and "count" in (await bad.json())["message"]


async def test_workflow_names_and_versions_without_bodies(client) -> None:
    for version in (1, 2):
        await register_workflow(client, {**sequence("billing", "a"), "version": version})
    await register_workflow(client, sequence("audit", "a"))

    names = await (await client.get("/api/metadata/workflow/names")).json()
    assert names == ["audit", "billing"]
    versions = await (await client.get("/api/metadata/workflow/billing/versions")).json()
    assert [(v["name"], v["version"]) for v in versions] == [("billing", 1), ("billing", 2)]
    assert all("tasks" not in v and v["createTime"] > 0 for v in versions)
    assert await (await client.get("/api/metadata/workflow/nope/versions")).json() == []


async def test_the_version_is_the_installed_release_as_text(client) -> None:
    response = await client.get("/api/version")
    assert response.status == 200 and response.content_type == "text/plain"
    assert await response.text() == metadata.version("conductor-py-server")


async def test_the_admin_view_lists_a_types_tasks_in_progress(client) -> None:
    await register_workflow(client, sequence("pending_view", "a"))
    await register_workflow(client, sequence("other_type", "a", task="other"))
    runs = {await start(client, "pending_view"), await start(client, "pending_view")}
    await start(client, "other_type")
    [claimed] = await poll(client, "work")  # one IN_PROGRESS, one still SCHEDULED
    listed = await (await client.get("/api/admin/task/work")).json()
    assert [t["taskId"] for t in listed] == [claimed["taskId"]]
    assert listed[0]["status"] == "IN_PROGRESS" and listed[0]["workflowInstanceId"] in runs
    assert await (await client.get("/api/admin/task/work?start=1")).json() == []
    assert await (await client.get("/api/admin/task/nothing")).json() == []


async def _start_version(client, name: str, version: int) -> str:
    response = await client.post(f"/api/workflow/{name}?version={version}", json={})
    assert response.status == 200, await response.text()
    return await response.text()


async def test_running_workflows_of_a_version_and_of_a_time_window(client, clock) -> None:
    await register_workflow(client, sequence("renewal", "a"))
    await register_workflow(client, {**sequence("renewal", "a"), "version": 2})
    early = await _start_version(client, "renewal", 1)
    clock.advance(60)
    window_start = clock.now_ms()
    later = await _start_version(client, "renewal", 1)
    done = await _start_version(client, "renewal", 1)
    await _start_version(client, "renewal", 2)
    [task] = [t for t in await poll(client, "work", count=10) if t["workflowInstanceId"] == done]
    await complete(client, task)

    running = await (await client.get("/api/workflow/running/renewal")).json()
    assert running == [early, later]  # version 1 by default, ended runs left out
    second = await (await client.get("/api/workflow/running/renewal?version=2")).json()
    assert len(second) == 1
    window = f"startTime={window_start}&endTime={clock.now_ms()}"
    started = await (await client.get(f"/api/workflow/running/renewal?{window}")).json()
    assert sorted(started) == sorted([later, done])  # any status, started in the window
    assert await (await client.get("/api/workflow/running/nope")).json() == []


async def test_an_unknown_definition_is_named_as_conductor_names_it(client) -> None:
    missing = await client.get("/api/metadata/workflow/nope")
    assert missing.status == 404
    assert (await missing.json())[
        "message"
    ] == "No such workflow found by name: nope, version: null"
    versioned = await client.get("/api/metadata/workflow/nope?version=3")
    assert (await versioned.json())["message"] == "No such workflow found by name: nope, version: 3"
