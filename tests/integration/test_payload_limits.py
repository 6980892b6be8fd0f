"""Conductor's payload caps: 10485760 bytes of JSON for a workflow input and for a task output.

A start over the cap is refused with nothing written; a task output over it fails the task
(FAILED_WITH_TERMINAL_ERROR, output emptied, Conductor's reason) whoever reported it.
"""

from __future__ import annotations

import orjson
import pytest

from conductor.api.keys import EXECUTOR
from conductor.config import DEFAULT_MAX_PAYLOAD_BYTES
from tests.conftest import drain
from tests.integration.api import (
    register_task_defs,
    register_workflow,
    row_counts,
    sequence,
    sub_workflow_task,
    workflow,
)

pytestmark = pytest.mark.integration

LIMIT = DEFAULT_MAX_PAYLOAD_BYTES
assert LIMIT == 10485760  # Conductor's 10240 KB


def payload_of_size(size: int, key: str = "blob") -> dict:
    """A JSON object whose compact encoding is exactly `size` bytes."""
    overhead = len(orjson.dumps({key: ""}))
    payload = {key: "x" * (size - overhead)}
    assert len(orjson.dumps(payload)) == size
    return payload


@pytest.fixture
async def registered(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("wf", "a"))


def assert_refused_start(body: dict, size: int, limit: int = LIMIT) -> None:
    assert body["status"] == 400
    assert body["retryable"] is False
    assert body["message"].startswith(f"The payload size: {size} of workflow: ")
    assert body["message"].endswith(f" is greater than the permissible limit: {limit} bytes")


async def test_a_start_input_of_exactly_the_limit_is_accepted(client, registered) -> None:
    workflow_input = payload_of_size(LIMIT)
    response = await client.post("/api/workflow/wf", data=orjson.dumps(workflow_input))
    assert response.status == 200, (await response.text())[:500]
    run = await workflow(client, await response.text())
    assert run["status"] == "RUNNING"
    assert run["input"] == workflow_input


@pytest.mark.parametrize(
    ("path", "wrap"),
    [
        ("/api/workflow/wf", lambda i: i),
        ("/api/workflow", lambda i: {"name": "wf", "input": i, "correlationId": "too-big"}),
        ("/api/workflow/execute/wf/1", lambda i: {"name": "wf", "input": i}),
        ("/api/workflow/test", lambda i: {"name": "wf", "input": i}),
    ],
)
async def test_a_start_input_one_byte_over_is_refused_and_nothing_written(
    client, registered, path, wrap
) -> None:
    before = await row_counts(client)
    response = await client.post(path, data=orjson.dumps(wrap(payload_of_size(LIMIT + 1))))
    assert response.status == 400
    assert_refused_start(await response.json(), LIMIT + 1)
    assert await row_counts(client) == before
    correlated = await client.get("/api/workflow/wf/correlated/too-big?includeClosed=true")
    assert await correlated.json() == []


async def test_the_limit_counts_the_input_as_stored(client, registered) -> None:
    # inputTemplate defaults join the input before it is measured, as in Conductor.
    client.server.app[EXECUTOR].max_workflow_input_bytes = 100
    definition = sequence("templated", "a", inputTemplate={"pad": "p" * 90})
    await register_workflow(client, definition)
    response = await client.post("/api/workflow/templated", json={"small": 1})
    assert response.status == 400
    stored = {"small": 1, "pad": "p" * 90}
    assert_refused_start(await response.json(), len(orjson.dumps(stored)), limit=100)


async def test_a_sub_workflow_input_over_the_limit_fails_its_task(client, registered) -> None:
    client.server.app[EXECUTOR].max_workflow_input_bytes = 100
    parent = {
        "name": "parent",
        "tasks": [
            {
                **sub_workflow_task("child", "wf"),
                "inputParameters": {"blob": "${workflow.input.blob}", "more": 1},
            }
        ],
    }
    await register_workflow(client, parent)
    response = await client.post("/api/workflow/parent", json=payload_of_size(100))
    assert response.status == 200
    await drain(client)
    run = await workflow(client, await response.text())
    task = run["tasks"][0]
    assert task["status"] == "FAILED"
    assert "is greater than the permissible limit: 100 bytes" in task["reasonForIncompletion"]
    assert run["status"] == "FAILED"
