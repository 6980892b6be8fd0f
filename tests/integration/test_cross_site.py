"""A web page on another site cannot make a browser write to this server."""

from __future__ import annotations

import orjson
import pytest

from tests.integration.api import register_workflow, sequence, start

pytestmark = pytest.mark.integration

_DEFINITION = orjson.dumps(
    {
        "name": "planted",
        "version": 1,
        "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}],
    }
)


async def _defined(client, name: str) -> bool:
    return (await client.get(f"/api/metadata/workflow/{name}")).status == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
async def test_a_body_that_is_not_labelled_json_is_refused(client, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(
        "/api/metadata/workflow",
        data=_DEFINITION,
        headers=headers,
        skip_auto_headers=["Content-Type"],
    )
    assert response.status == 415
    body = await response.json()
    assert body["status"] == 415 and "application/json" in body["message"]
    assert not await _defined(client, "planted")


async def test_json_labelled_bodies_still_work(client) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await client.post(
            "/api/metadata/workflow?overwrite=true",
            data=_DEFINITION,
            headers={"Content-Type": content_type},
        )
        assert response.status == 200, await response.text()
    assert await _defined(client, "planted")


async def test_writes_from_another_origin_are_refused(client) -> None:
    await register_workflow(client, sequence("wf", "a"))
    evil = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    started = await client.post("/api/workflow/wf", data=b"{}", headers=evil)
    assert started.status == 403
    assert "evil.example" in (await started.json())["message"]
    search = await (await client.get("/api/workflow/search?query=workflowType%3D%27wf%27")).json()
    assert search["totalHits"] == 0

    # No body at all: still refused, as the browser says where the request comes from.
    workflow_id = await start(client, "wf")
    assert (await client.delete(f"/api/workflow/{workflow_id}", headers=evil)).status == 403
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    assert (
        await client.put(f"/api/workflow/{workflow_id}/pause", headers=cross_site)
    ).status == 403
    assert (
        await client.post(
            "/api/workflow/wf",
            data=b"{}",
            headers={"Origin": "null", "Content-Type": "application/json"},
        )
    ).status == 403
    status = await (await client.get(f"/api/workflow/{workflow_id}?includeTasks=false")).json()
    assert status["status"] == "RUNNING"


async def test_the_servers_own_pages_and_other_clients_may_write(client) -> None:
    await register_workflow(client, sequence("wf", "a"))
    own = {
        "Origin": f"http://{client.server.host}:{client.server.port}",
        "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/json",
    }
    assert (await client.post("/api/workflow/wf", data=b"{}", headers=own)).status == 200
    # SDKs and curl send no Origin.
    assert (await client.post("/api/workflow/wf", json={})).status == 200


async def test_reads_are_not_blocked_by_origin(client) -> None:
    response = await client.get("/api/metadata/workflow", headers={"Origin": "http://evil.example"})
    assert response.status == 200
    # No CORS headers: the other site's script cannot read the answer.
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_html_pages_carry_security_headers(client) -> None:
    page = await client.get("/")
    assert page.status == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    html = await page.text()
    assert "<script>" not in html and "<style>" not in html  # nothing inline for the CSP to block
    api = await client.get("/api/metadata/workflow")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
