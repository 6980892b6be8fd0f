"""INLINE, SWITCH `javascript` and DECISION `caseExpression` through the script sandbox.

The timer service runs deferred system tasks; tests drive it with `fire_timers` (manual clock).
"""

from __future__ import annotations

import asyncio

import pytest

from conductor.api.keys import SANDBOX
from tests.conftest import fire_timers, wait_until
from tests.integration.api import poll, register_workflow, start, workflow

pytestmark = pytest.mark.integration


def inline(ref: str, expression: str, **params) -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "INLINE",
        "inputParameters": {"evaluatorType": "javascript", "expression": expression, **params},
    }


async def run_to_end(client, name: str, workflow_input: dict) -> dict:
    workflow_id = await start(client, name, workflow_input)
    while await fire_timers(client):
        pass
    return await workflow(client, workflow_id)


async def test_inline_javascript_result_and_binding(client) -> None:
    definition = {
        "name": "calc",
        "tasks": [
            inline(
                "sum",
                "var t = 0; for (var i = 0; i < $.xs.length; i++) { t += $.xs[i]; } t * 1.0",
                xs="${workflow.input.xs}",
            ),
            inline(
                "shape",
                "({total: $.total, half: $.total / 2, tags: ['a', null], ok: true})",
                total="${sum.output.result}",
            ),
            inline(
                "iife", "(function () { return $.evaluatorType + ':' + typeof $.expression; })()"
            ),
        ],
        "outputParameters": {"total": "${sum.output.result}", "shape": "${shape.output.result}"},
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "calc", {"xs": [1, 2, 3]})
    assert run["status"] == "COMPLETED"
    assert run["output"] == {
        "total": 6,
        "shape": {"total": 6, "half": 3, "tags": ["a", None], "ok": True},
    }
    assert isinstance(run["output"]["total"], int)  # 6.0 comes back as 6, as in Conductor
    assert run["tasks"][2]["outputData"] == {"result": "javascript:string"}


async def test_inline_value_param_evaluator(client) -> None:
    definition = {
        "name": "vp",
        "tasks": [
            {
                "name": "pick",
                "taskReferenceName": "pick",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "value-param",
                    "expression": "v",
                    "v": "${workflow.input.v}",
                },
            }
        ],
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "vp", {"v": {"deep": 1}})
    assert run["tasks"][0]["outputData"] == {"result": {"deep": 1}}


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("while (true) {}", "timed out"),
        ("var a = []; while (true) { a.push(new Array(1e6).fill(7)); }", "out of memory"),
        ("process.env.HOME", "ReferenceError: process is not defined"),
        ("require('fs').readFileSync('/etc/passwd')", "ReferenceError: require is not defined"),
        ("readFile('/etc/passwd')", "ReferenceError: readFile is not defined"),
        ("null.x", "TypeError"),
    ],
)
async def test_sandbox_failures_fail_the_task_cleanly(client, script, reason) -> None:
    client.server.app[SANDBOX].timeout_s = 0.5  # keep the infinite loop short
    await register_workflow(client, {"name": "bad", "tasks": [inline("s", script)]})
    run = await run_to_end(client, "bad", {})
    task = run["tasks"][0]
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert reason in task["reasonForIncompletion"]
    assert task["outputData"]["error"] == task["reasonForIncompletion"]
    assert run["status"] == "FAILED"


async def test_a_runaway_script_does_not_stall_other_workflows(client) -> None:
    client.server.app[SANDBOX].timeout_s = 2.0
    await register_workflow(client, {"name": "spin", "tasks": [inline("s", "while (true) {}")]})
    await register_workflow(
        client,
        {"name": "plain", "tasks": [{"name": "work", "taskReferenceName": "w", "type": "SIMPLE"}]},
    )
    sandbox = client.server.app[SANDBOX]
    spinning = asyncio.create_task(run_to_end(client, "spin", {}))

    async def script_running() -> bool:
        return sandbox.running > 0

    await wait_until(script_running, timeout=5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(20):  # meanwhile the API keeps answering at normal speed
        workflow_id = await start(client, "plain", {})
        [task] = await poll(client, "work")
        assert task["workflowInstanceId"] == workflow_id
    elapsed = loop.time() - began
    spun = await spinning
    assert spun["tasks"][0]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert elapsed < 1.5, f"20 start+poll round trips took {elapsed:.2f} s during the script"


async def test_switch_with_javascript_and_decision_case_expression(client) -> None:
    definition = {
        "name": "route",
        "tasks": [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "evaluatorType": "javascript",
                "expression": "$.amount > 100 ? 'big' : 'small'",
                "inputParameters": {"amount": "${workflow.input.amount}"},
                "decisionCases": {
                    "big": [{"name": "review", "taskReferenceName": "review"}],
                    "small": [{"name": "n1", "taskReferenceName": "n1", "type": "NOOP"}],
                },
            },
            {
                "name": "d",
                "taskReferenceName": "d",
                "type": "DECISION",
                "caseExpression": "$.amount % 2 == 0 ? 'even' : 'odd'",
                "inputParameters": {"amount": "${workflow.input.amount}"},
                "decisionCases": {
                    "even": [{"name": "n2", "taskReferenceName": "n2", "type": "NOOP"}]
                },
                "defaultCase": [{"name": "n3", "taskReferenceName": "n3", "type": "NOOP"}],
            },
        ],
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "route", {"amount": 7})
    refs = [t["referenceTaskName"] for t in run["tasks"]]
    assert refs == ["sw", "n1", "d", "n3"]
    assert run["tasks"][0]["outputData"] == {"evaluationResult": ["small"], "selectedCase": "small"}
    assert run["tasks"][2]["outputData"] == {"caseOutput": ["odd"]}
    assert run["status"] == "COMPLETED"
    big = await run_to_end(client, "route", {"amount": 500})
    assert [t["referenceTaskName"] for t in big["tasks"]] == ["sw", "review"]


async def test_switch_script_error_fails_the_workflow(client) -> None:
    definition = {
        "name": "broken_switch",
        "tasks": [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "evaluatorType": "graaljs",
                "expression": "$.missing.field",
                "decisionCases": {"x": [{"name": "a", "taskReferenceName": "a"}]},
            }
        ],
    }
    await register_workflow(client, definition)
    run = await run_to_end(client, "broken_switch", {})
    assert run["tasks"][0]["status"] == "FAILED"
    assert "TypeError" in run["tasks"][0]["reasonForIncompletion"]
    assert run["status"] == "FAILED"


async def test_script_syntax_errors_are_refused_at_definition_time(client) -> None:
    definition = {"name": "syntax", "tasks": [inline("s", "function (")]}
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    [error] = (await response.json())["validationErrors"]
    assert error["path"].endswith("inputParameters.expression")
    assert "SyntaxError" in error["message"]
    switch = {
        "name": "sw_syntax",
        "tasks": [
            {
                "name": "sw",
                "taskReferenceName": "sw",
                "type": "SWITCH",
                "evaluatorType": "javascript",
                "expression": "$.a >",
                "decisionCases": {"x": [{"name": "a", "taskReferenceName": "a"}]},
            }
        ],
    }
    assert (await client.post("/api/metadata/workflow", json=switch)).status == 400
    python = {
        "name": "py",
        "tasks": [
            {**inline("s", "1"), "inputParameters": {"evaluatorType": "python", "expression": "1"}}
        ],
    }
    # An evaluator this server lacks is Conductor's run-time matter (the task fails then).
    assert (await client.post("/api/metadata/workflow", json=python)).status == 200
