"""Nothing Conductor OSS serves is missing from our route table without a stated reason.

tests/compat/conductor_oss_routes.json lists every (method, path) of Conductor OSS's REST
controllers. Each must be in our route table (parameter names aside), or be listed in
tests/compat/routes.py with the reason it is not served (yet). What is not served, and every
Orkes-only SDK endpoint, answers a JSON 404 (or 405) in Conductor's error shape, never HTML.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from conductor.app import create_app
from conductor.config import Settings
from tests.compat import routes
from tests.compat.sdk_endpoints import JS_PACKAGE, Endpoint, javascript_endpoints, python_endpoints
from tests.compat.write_compatibility_doc import DOC, render

pytestmark = pytest.mark.integration


def _served() -> set[routes.Route]:
    return routes.served_routes(create_app(Settings()))


def _oss() -> list[dict[str, str]]:
    listed: list[dict[str, str]] = routes.oss_routes()["routes"]
    return listed


def test_the_oss_route_list_is_a_full_record() -> None:
    oss = _oss()
    # The commit read, and the controllers an SDK user meets; a parse that lost them fails here.
    assert len(routes.oss_routes()["commit"]) == 40
    controllers = {r["controller"] for r in oss}
    for name in ("WorkflowResource", "TaskResource", "MetadataResource", "SchedulerResource"):
        assert name in controllers
    assert {
        "method": "GET",
        "path": "/api/workflow/{workflowId}",
        "controller": "WorkflowResource",
        "module": "rest",
    } in oss


def test_every_oss_route_is_served_or_explained() -> None:
    served = _served()
    missing = [
        f"{r['method']} {r['path']} ({r['controller']})"
        for r in _oss()
        if routes.route(r["method"], r["path"]) not in served
        and routes.oss_reason(r["method"], r["path"], r["controller"]) is None
    ]
    assert missing == [], "Conductor OSS serves these, we do not:\n" + "\n".join(missing)


def test_the_allow_list_holds_only_oss_routes_we_do_not_serve() -> None:
    served = _served()
    oss = {routes.route(r["method"], r["path"]) for r in _oss()}
    controllers = {r["controller"] for r in _oss()}
    excused = set(routes.NOT_SERVED) | set(routes.NOT_YET)
    assert excused <= oss, "not a Conductor OSS route: " + str(sorted(excused - oss))
    assert set(routes.NOT_SERVED_CONTROLLERS) <= controllers
    now_served = sorted(excused & served) + sorted(
        (r["method"], r["path"])
        for r in _oss()
        if r["controller"] in routes.NOT_SERVED_CONTROLLERS
        and routes.route(r["method"], r["path"]) in served
    )
    assert now_served == [], "served now: take these off the allow-list"


def test_path_parameters_compare_by_position_not_name() -> None:
    assert routes.route("POST", "/api/tasks/{workflowId}/{taskRefName}/{status}") == routes.route(
        "post", "/api/tasks/{workflow_id}/{ref}/{status}"
    )
    assert routes.route("GET", "/api/workflow/{id}") != routes.route("GET", "/api/workflow/{id}/x")


async def _assert_json_error(client, method: str, path: str, matched: bool = False) -> None:
    """A JSON error in Conductor's shape: 404 or 405, or, where one of our routes matches the
    path (`matched`), whatever 4xx that route gives such a request."""
    response = await client.request(method, path, json={})
    expected = range(400, 500) if matched else (404, 405)
    assert response.status in expected, f"{method} {path} -> {response.status}"
    assert response.content_type == "application/json", f"{method} {path}: {response.content_type}"
    body = await response.json()
    assert body["status"] == response.status
    assert body["message"]
    assert body["retryable"] is False
    assert "instance" in body


async def test_an_unknown_api_path_is_a_json_404(client) -> None:
    response = await client.get("/api/no/such/thing")
    assert response.status == 404
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["status"] == 404
    assert body["message"] == "No resource found for /api/no/such/thing"


async def test_what_we_do_not_serve_answers_a_json_404(client) -> None:
    served = routes.served_routes(client.server.app)
    unserved = {
        (r["method"], routes.concrete(r["path"]))
        for r in _oss()
        if r["path"].startswith("/api/") and routes.route(r["method"], r["path"]) not in served
    }
    assert len(unserved) > 50
    app = client.server.app
    for method, path in sorted(unserved):
        match = await app.router.resolve(make_mocked_request(method, path))
        # e.g. POST /api/tasks/{id}/{status}/signal, which the update-by-reference route
        # /api/tasks/{id}/{ref}/{status} takes until signals are served (issue 13)
        matched = match.http_exception is None
        await _assert_json_error(client, method, path, matched)


def _sdk_endpoints() -> list[Endpoint]:
    found = python_endpoints()
    if (JS_PACKAGE / "dist" / "index.mjs").exists():
        found += javascript_endpoints()
    return found


async def test_orkes_only_sdk_endpoints_answer_a_json_404(client) -> None:
    app = client.server.app
    oss = {routes.route(r["method"], r["path"]): r["controller"] for r in _oss()}
    orkes_only = [
        e for e in _sdk_endpoints() if (await routes.status_of(e, app, oss)).kind == "Orkes-only"
    ]
    assert len(orkes_only) > 100
    for e in orkes_only:
        await _assert_json_error(client, e.method, routes.concrete(e.path))


def test_the_sdks_client_classes_are_read() -> None:
    python = python_endpoints()
    names = {(e.client, e.name) for e in python}
    assert ("WorkflowResourceApi", "start_workflow") in names
    assert ("TaskResourceApi", "batch_poll") in names
    assert len(python) > 150
    assert all(e.path.startswith("/api/") for e in python)


async def test_the_compatibility_doc_is_current() -> None:
    if not (JS_PACKAGE / "dist" / "index.mjs").exists():
        pytest.skip("the JavaScript SDK is not installed (tests/e2e/js: npm ci)")
    assert DOC.read_text() == await render(), (
        "docs/compatibility.md is out of date: "
        "PYTHONPATH=. .venv/bin/python -m tests.compat.write_compatibility_doc"
    )


def test_the_compatibility_doc_lists_every_python_sdk_method() -> None:
    text = DOC.read_text()
    for e in python_endpoints():
        assert f"### {e.client}" in text
        assert f"| `{e.name}` | {e.method} | `{e.path}` |" in text, e


async def test_sdk_paths_another_route_matches_answer_as_documented(client) -> None:
    expected = {
        ("GET", "/api/event/execution"): 200,
        ("GET", "/api/event/message"): 200,
        ("GET", "/api/scheduler/schedules/tags"): 404,
        ("DELETE", "/api/metadata/workflow/{name}/tags"): 400,
    }
    assert {routes.route(m, p) for m, p in expected} >= set(routes.ANSWERED_BY_ANOTHER_ROUTE)
    for (method, path), status in expected.items():
        response = await client.request(method, routes.concrete(path))
        assert response.status == status, f"{method} {path}: {await response.text()}"
        assert response.content_type == "application/json"
        if status == 200:
            assert await response.json() == []
