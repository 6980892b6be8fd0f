"""A system task whose result PostgreSQL cannot store (a NUL character, nesting too deep) fails
with the reason, at once: nothing is retried forever and no workflow stays RUNNING."""

from __future__ import annotations

import pytest

from tests.conftest import fire_timers
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration


def inline_workflow(name: str, expression: str) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "s",
                "taskReferenceName": "s",
                "type": "INLINE",
                "inputParameters": {"evaluatorType": "javascript", "expression": expression},
            }
        ],
    }


def nested(depth: int) -> str:
    return (
        f"var o = {{}}; var c = o; for (var i = 0; i < {depth}; i++) {{ c.x = {{}}; c = c.x; }} o"
    )


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (
            "'a' + String.fromCharCode(0) + 'b'",
            "The task's output cannot be stored: outputData.result must not contain the NUL",
        ),
        (nested(500), "The task's output cannot be stored: outputData.result"),
        (nested(5000), "The script's result cannot be used: depth limit exceeded"),
    ],
)
async def test_an_unstorable_inline_result_fails_the_task_and_the_run(
    client, expression: str, problem: str
) -> None:
    await register_workflow(client, inline_workflow("unstorable", expression))
    workflow_id = await start(client, "unstorable")
    fired = 0
    while batch := await fire_timers(client):
        fired += batch
        assert fired < 10, "the task's timer keeps firing"
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    [task] = run["tasks"]
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"].startswith(problem)
