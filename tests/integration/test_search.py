"""Search over the REST API: grammar, paging, sorting, free text, result shapes, injection
attempts, and index use for the common filters."""

from __future__ import annotations

import re

import asyncpg
import pytest

from conductor.api.handlers.search import WORKFLOW_FIELDS
from conductor.search_query import parse_query
from conductor.store.search import explain_sql
from tests.integration.api import register_workflow, row_counts, sequence, start

pytestmark = pytest.mark.integration

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
async def runs(client, clock) -> dict[str, list[str]]:
    """Three billing runs (one terminated) and two refund runs, one minute apart."""
    await register_workflow(client, sequence("billing", "charge"))
    await register_workflow(client, sequence("refunds", "refund", task="pay_back"))
    ids: dict[str, list[str]] = {"billing": [], "refunds": []}
    customers = ["alice", "bob", "carol_100%"]
    for i, customer in enumerate(customers):
        response = await client.post(
            "/api/workflow",
            json={"name": "billing", "correlationId": f"c-{i}", "input": {"customer": customer}},
        )
        ids["billing"].append(await response.text())
        clock.advance(60)
    for _ in range(2):
        ids["refunds"].append(await start(client, "refunds", {"customer": "dave"}))
        clock.advance(60)
    terminated = await client.delete(f"/api/workflow/{ids['billing'][1]}", params={"reason": "x"})
    assert terminated.status == 200
    return ids


async def search(client, path: str = "/api/workflow/search", **params) -> dict:
    response = await client.get(path, params=params)
    assert response.status == 200, await response.text()
    return await response.json()


async def found_ids(client, **params) -> list[str]:
    return [r["workflowId"] for r in (await search(client, **params))["results"]]


async def test_filters(client, clock, runs) -> None:
    billing, refunds = runs["billing"], runs["refunds"]
    assert set(await found_ids(client, query="workflowType = billing")) == set(billing)
    assert await found_ids(client, query="status IN (TERMINATED)") == [billing[1]]
    assert await found_ids(client, query='correlationId = "c-2"') == [billing[2]]
    running = await found_ids(
        client, query="workflowType IN (billing, refunds) AND status = RUNNING"
    )
    assert set(running) == {billing[0], billing[2], *refunds}
    assert set(await found_ids(client, query="workflowType = ref*")) == set(refunds)
    assert set(await found_ids(client, query="parentWorkflowId = ''")) == {*billing, *refunds}
    everything = await search(client, query="", freeText="*")
    assert everything["totalHits"] == 5


async def test_time_ranges(client, clock, runs) -> None:
    everything = await search(client, sort="startTime:ASC")
    starts = [r["startTime"] for r in everything["results"]]
    assert all(ISO.match(s) for s in starts)
    first = await search(client, query="workflowType = billing", sort="startTime:ASC", size=1)
    workflow = await client.get(f"/api/workflow/{first['results'][0]['workflowId']}")
    created = (await workflow.json())["createTime"]
    window = f"startTime >= {created + 60_000} AND startTime < {created + 180_000}"
    assert await found_ids(client, query=window, sort="startTime:ASC") == runs["billing"][1:]


async def test_paging_and_sorting(client, runs) -> None:
    oldest_first = runs["billing"] + runs["refunds"]
    pages = []
    for offset in (0, 2, 4):
        page = await search(client, sort="startTime:ASC", start=offset, size=2)
        assert page["totalHits"] == 5
        pages.extend(r["workflowId"] for r in page["results"])
    assert pages == oldest_first
    assert await found_ids(client) == oldest_first[::-1]  # default: newest first
    assert (await search(client, start=10))["results"] == []
    by_type = await found_ids(client, sort="workflowType:DESC|startTime:ASC")
    assert by_type == runs["refunds"] + runs["billing"]


async def test_free_text_matches_input_and_output_literally(client, runs) -> None:
    assert await found_ids(client, freeText="alice") == [runs["billing"][0]]
    assert await found_ids(client, freeText="ALICE") == [runs["billing"][0]]
    assert await found_ids(client, freeText="_100%") == [runs["billing"][2]]
    assert await found_ids(client, freeText="%") == [runs["billing"][2]]  # literal, not LIKE
    assert await found_ids(client, freeText="nobody") == []


async def test_workflow_summary_shape(client, runs) -> None:
    [summary] = (await search(client, query="correlationId = c-0"))["results"]
    assert summary["workflowType"] == "billing" and summary["version"] == 1
    assert summary["status"] == "RUNNING" and summary["executionTime"] == 0
    assert summary["input"] == "{customer=alice}" and summary["output"] == "{}"
    assert summary["parentWorkflowId"] == "" and "endTime" not in summary
    assert ISO.match(summary["updateTime"])
    [ended] = (await search(client, query="status = TERMINATED"))["results"]
    assert ISO.match(ended["endTime"]) and ended["reasonForIncompletion"] == "x"


async def test_search_v2_returns_workflows(client, runs) -> None:
    page = await search(client, "/api/workflow/search-v2", query="workflowType = refunds")
    assert page["totalHits"] == 2
    assert {r["workflowName"] for r in page["results"]} == {"refunds"}
    assert all(r["tasks"] == [] for r in page["results"])


async def test_search_by_tasks(client, runs) -> None:
    page = await search(client, "/api/workflow/search-by-tasks", query="taskType = pay_back")
    assert {r["workflowId"] for r in page["results"]} == set(runs["refunds"])
    page = await search(client, "/api/workflow/search-by-tasks-v2", query="status = CANCELED")
    assert [r["workflowId"] for r in page["results"]] == [runs["billing"][1]]


async def test_task_search(client, runs) -> None:
    page = await search(
        client, "/api/tasks/search", query="workflowType = billing AND status = SCHEDULED"
    )
    assert page["totalHits"] == 2
    summary = page["results"][0]
    assert summary["taskType"] == "work" and summary["taskDefName"] == "work"
    assert summary["workflowId"] in runs["billing"] and ISO.match(summary["scheduledTime"])
    assert summary["input"] == "{}"
    page = await search(
        client, "/api/tasks/search-v2", query="taskType = pay_back", sort="scheduledTime:ASC"
    )
    assert [t["workflowInstanceId"] for t in page["results"]] == runs["refunds"]
    assert page["results"][0]["referenceTaskName"] == "refund"


@pytest.mark.parametrize(
    "params",
    [
        {"query": "workflowType = billing; DROP TABLE workflow"},
        {"query": "workflowType = billing' OR '1'='1"},
        {"query": "1=1"},
        {"query": "status = RUNNING OR 1=1"},
        {"query": "workflow_id = x"},
        {"query": "startTime > now()"},
        {"query": "status IN (SELECT status FROM workflow)"},
        {"sort": "startTime DESC; DROP TABLE workflow"},
        {"sort": "body:ASC"},
        {"sort": "(SELECT 1):ASC"},
        {"size": "5001"},
        {"size": "-1"},
        {"start": "x"},
    ],
    ids=lambda p: next(iter(p.values()))[:40],
)
async def test_injection_and_bad_requests_get_400_and_change_nothing(client, runs, params) -> None:
    before = await row_counts(client)
    response = await client.get("/api/workflow/search", params=params)
    assert response.status == 400
    body = await response.json()
    assert body["status"] == 400 and body["message"]
    assert await row_counts(client) == before


@pytest.mark.parametrize(
    "free_text",
    ["'; DROP TABLE workflow; --", "\\", "%' OR '1'='1", "x') OR true --", "$1"],
)
async def test_free_text_injection_finds_nothing_and_changes_nothing(
    client, runs, free_text
) -> None:
    before = await row_counts(client)
    page = await search(client, freeText=free_text)
    assert page == {"totalHits": 0, "results": []}
    assert await row_counts(client) == before


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("status = FAILED", "workflow_status_time_idx"),
        ("workflowType = billing", "workflow_name_time_idx"),
        ("correlationId = c-1", "workflow_correlation_only_idx"),
        ("startTime > 1700000000000 AND startTime < 1800000000000", "workflow_create_time_idx"),
    ],
)
async def test_common_filters_use_an_index(db_dsn, query, index) -> None:
    sql, params = explain_sql(parse_query(query, WORKFLOW_FIELDS))
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("SET enable_seqscan = off")
        plan = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *params)
    finally:
        await conn.close()
    assert index in str(plan)
