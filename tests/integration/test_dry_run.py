"""POST /api/workflow/test: a run with mocked task results."""

from __future__ import annotations

import pytest

from tests.integration.api import register_task_defs, register_workflow, row_counts

pytestmark = pytest.mark.integration


def flow() -> dict:
    return {
        "name": "mocked",
        "version": 1,
        "tasks": [
            {"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"},
            {
                "name": "route",
                "taskReferenceName": "route",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "result",
                "inputParameters": {"result": "${charge.output.result}"},
                "decisionCases": {
                    "ok": [{"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"}]
                },
                "defaultCase": [
                    {"name": "refund", "taskReferenceName": "refund", "type": "SIMPLE"}
                ],
            },
        ],
        "outputParameters": {"shipped": "${ship.output.tracking}"},
    }


async def test_mocks_drive_the_run_to_its_end_including_a_retry(client) -> None:
    await register_task_defs(client, {"name": "charge", "retryCount": 1, "retryDelaySeconds": 0})
    await register_workflow(client, flow())
    body = {
        "name": "mocked",
        "input": {"order": 1},
        "taskRefToMockOutput": {
            "charge": [
                {"status": "FAILED", "output": {}},
                {"status": "COMPLETED", "output": {"result": "ok"}},
            ],
            "ship": [{"status": "COMPLETED", "output": {"tracking": "T-1"}}],
        },
    }
    response = await client.post("/api/workflow/test", json=body)
    assert response.status == 200, await response.text()
    run = await response.json()
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"shipped": "T-1"}
    assert [(t["referenceTaskName"], t["status"]) for t in run["tasks"]] == [
        ("charge", "FAILED"),
        ("charge", "COMPLETED"),
        ("route", "COMPLETED"),
        ("ship", "COMPLETED"),
    ]


async def test_a_task_without_a_mock_waits(client) -> None:
    await register_workflow(client, flow())
    body = {
        "name": "mocked",
        "taskRefToMockOutput": {"charge": [{"status": "COMPLETED", "output": {"result": "no"}}]},
    }
    run = await (await client.post("/api/workflow/test", json=body)).json()
    assert run["status"] == "RUNNING"
    assert [(t["referenceTaskName"], t["status"]) for t in run["tasks"]][-1] == (
        "refund",
        "SCHEDULED",
    )


@pytest.mark.parametrize(
    "mocks",
    [
        ["x"],
        {"charge": "COMPLETED"},
        {"charge": [{"status": "SLEEPING"}]},
        {"charge": [{"status": "IN_PROGRESS"}]},
        {"charge": [{"status": "COMPLETED", "output": [1]}]},
    ],
    ids=str,
)
async def test_bad_mocks_are_refused_before_anything_starts(client, mocks) -> None:
    await register_workflow(client, flow())
    before = await row_counts(client)
    response = await client.post(
        "/api/workflow/test", json={"name": "mocked", "taskRefToMockOutput": mocks}
    )
    assert response.status == 400
    assert await row_counts(client) == before
