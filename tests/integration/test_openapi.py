"""The OpenAPI document covers every route; Swagger UI is served offline; bodies that break the
documented models are refused with 400 before any work."""

from __future__ import annotations

import pytest

from conductor.api.openapi.spec import api_routes, is_ui_route
from tests.integration.api import row_counts

pytestmark = pytest.mark.integration


def routes_of(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        info = route.resource.get_info()
        found.add((route.method, info.get("formatter") or info.get("path") or info["prefix"]))
    return found


async def test_every_route_but_the_ui_is_in_the_document(client) -> None:
    response = await client.get("/api-docs")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routes = routes_of(client.server.app)
    api = {(method, path) for method, path in routes if not is_ui_route(path)}
    assert api - documented == set()
    assert documented - api == set()
    assert len(api) > 100
    # What is left out is the web UI: its pages, forms and files, none of them under /api.
    for _method, path in routes - api:
        assert not path.startswith("/api"), path


async def test_operations_carry_their_models_and_parameters(client) -> None:
    document = await (await client.get("/api-docs")).json()
    start = document["paths"]["/api/workflow"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StartWorkflowRequest"
    }
    assert start["responses"]["200"]["content"]["text/plain"]["schema"] == {"type": "string"}
    run = document["paths"]["/api/workflow/{workflow_id}"]["get"]
    assert {p["name"]: p["in"] for p in run["parameters"]} == {
        "workflow_id": "path",
        "includeTasks": "query",
    }
    schemas = document["components"]["schemas"]
    assert schemas["TaskDef"]["properties"]["retryLogic"]["anyOf"][0] == {
        "$ref": "#/components/schemas/RetryLogic"
    }
    assert set(schemas["ErrorBody"]["required"]) == {"status", "message", "retryable"}
    assert document["paths"]["/health"]["get"]["security"] == []


async def test_the_document_is_built_from_the_router(client) -> None:
    listed = api_routes(client.server.app)
    assert ("GET", "/api-docs") in {(method, path) for method, path, _ in listed}


async def test_swagger_ui_is_served_from_vendored_files(client) -> None:
    page = await client.get("/swagger-ui/index.html")
    assert page.status == 200
    html = await page.text()
    assert "swagger-ui-bundle.js" in html and "http" not in html.replace("http-equiv", "")
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"]
    initializer = await (await client.get("/swagger-ui/swagger-initializer.js")).text()
    assert 'url: "/api-docs"' in initializer
    bundle = await client.get("/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status == 200 and len(await bundle.read()) > 1_000_000
    assert (await client.get("/swagger-ui/")).url.path == "/swagger-ui/index.html"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/metadata/taskdefs", [{"name": "t", "retryLogic": {}}], "[0].retryLogic"),
        (
            "/api/metadata/taskdefs",
            [{"name": "t", "timeoutPolicy": ["RETRY"]}],
            "[0].timeoutPolicy",
        ),
        (
            "/api/metadata/workflow",
            {"name": "w", "tasks": [], "timeoutPolicy": {}},
            "timeoutPolicy",
        ),
        ("/api/workflow", {"name": "w", "version": None, "input": "text"}, "input"),
        ("/api/workflow", {"name": "w", "version": 2**70}, "version"),
        ("/api/workflow", {"name": "w", "priority": 100}, "priority"),
    ],
)
async def test_wrong_types_are_400_and_write_nothing(client, path, body, field) -> None:
    before = await row_counts(client)
    response = await client.post(path, json=body)
    assert response.status == 400, await response.text()
    answer = await response.json()
    assert answer["status"] == 400 and answer["retryable"] is False
    assert field in [error["path"] for error in answer["validationErrors"]]
    assert await row_counts(client) == before


async def test_lax_where_conductor_is_lax(client) -> None:
    """Jackson takes numbers for strings and keeps unknown fields: so does the server."""
    response = await client.post(
        "/api/metadata/taskdefs",
        json=[{"name": "lax", "description": 42, "ownerEmail": "a@b.c", "futureField": [1]}],
    )
    assert response.status == 200, await response.text()


async def test_nul_characters_are_400(client) -> None:
    body = await client.post("/api/workflow/anything", json={"note": "a\u0000b"})
    assert body.status == 400
    assert (await body.json())["validationErrors"][0]["path"] == "body.note"
    query = await client.get("/api/workflow/search", params={"query": "x\u0000"})
    assert query.status == 400
    version = await client.get("/api/metadata/workflow/w", params={"version": str(2**40)})
    assert version.status == 400


async def test_a_switch_whose_cases_are_not_tasks_is_refused_when_saved(client) -> None:
    """It used to be saved, then answered 500 on every start (and wedged runs behind a WAIT)."""
    definition = {
        "name": "bad_switch",
        "tasks": [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "x",
                "inputParameters": {"x": "1"},
                "decisionCases": {"1": ["x"]},
            }
        ],
    }
    before = await row_counts(client)
    for method in ("POST", "PUT"):
        body = definition if method == "POST" else [definition]
        response = await client.request(method, "/api/metadata/workflow", json=body)
        assert response.status == 400, await response.text()
        paths = [e["path"] for e in (await response.json())["validationErrors"]]
        assert any("decisionCases.1[0]" in path for path in paths), paths
    assert await row_counts(client) == before
