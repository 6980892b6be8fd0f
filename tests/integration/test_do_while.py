"""DO_WHILE end to end: a JavaScript loop condition, nested fork and switch, keepLastN."""

from __future__ import annotations

import pytest

from tests.conftest import drain
from tests.integration.api import complete, poll, register_workflow, start, workflow

pytestmark = pytest.mark.integration


NESTED = {
    "name": "nested_loop",
    "tasks": [
        {
            "name": "loop",
            "taskReferenceName": "loop",
            "type": "DO_WHILE",
            "loopCondition": "$.loop['iteration'] < $.times",
            "inputParameters": {"times": "${workflow.input.times}", "keepLastN": 3},
            "loopOver": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": [
                        [
                            {
                                "name": "parity",
                                "taskReferenceName": "parity",
                                "type": "INLINE",
                                "inputParameters": {
                                    "expression": "$.i % 2 == 0 ? 'even' : 'odd'",
                                    "i": "${loop.output.iteration}",
                                },
                            },
                            {
                                "name": "route",
                                "taskReferenceName": "route",
                                "type": "SWITCH",
                                "evaluatorType": "value-param",
                                "expression": "p",
                                "inputParameters": {"p": "${parity.output.result}"},
                                "decisionCases": {
                                    "even": [
                                        {
                                            "name": "mark",
                                            "taskReferenceName": "mark",
                                            "type": "SET_VARIABLE",
                                            "inputParameters": {
                                                "lastEven": "${loop.output.iteration}"
                                            },
                                        }
                                    ]
                                },
                                "defaultCase": [
                                    {"name": "skip", "taskReferenceName": "skip", "type": "NOOP"}
                                ],
                            },
                        ],
                        [
                            {
                                "name": "square",
                                "taskReferenceName": "square",
                                "type": "INLINE",
                                "inputParameters": {
                                    "expression": "$.i * $.i",
                                    "i": "${loop.output.iteration}",
                                },
                            }
                        ],
                        [
                            {
                                "name": "child",
                                "taskReferenceName": "child",
                                "type": "SUB_WORKFLOW",
                                "subWorkflowParam": {"name": "loop_child"},
                                "inputParameters": {"i": "${loop.output.iteration}"},
                            }
                        ],
                    ],
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": ["route", "square", "child"],
                },
            ],
        }
    ],
    "outputParameters": {
        "iterations": "${loop.output.iteration}",
        "lastEven": "${workflow.variables.lastEven}",
        "lastSquare": "${square.output.result}",
    },
}


LOOP_CHILD = {
    "name": "loop_child",
    "tasks": [
        {
            "name": "twice",
            "taskReferenceName": "twice",
            "type": "INLINE",
            "inputParameters": {"expression": "$.i * 2", "i": "${workflow.input.i}"},
        }
    ],
    "outputParameters": {"twice": "${twice.output.result}"},
}


async def test_a_hundred_iterations_with_a_nested_fork_switch_and_sub_workflow(client) -> None:
    await register_workflow(client, LOOP_CHILD)
    await register_workflow(client, NESTED)
    workflow_id = await start(client, "nested_loop", {"times": 100})
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    assert run["output"] == {"iterations": 100, "lastEven": 100, "lastSquare": 10000}
    loop = run["tasks"][0]
    assert loop["status"] == "COMPLETED"
    assert sorted(k for k in loop["outputData"] if k != "iteration") == ["100", "98", "99"]
    assert loop["outputData"]["99"]["square"] == {"result": 9801}
    assert loop["outputData"]["99"]["child"]["twice"] == 198
    assert loop["outputData"]["99"]["child"]["subWorkflowId"]
    # keepLastN bounds the stored tasks: the loop plus three iterations of its body.
    iterations = {t["iteration"] for t in run["tasks"] if t["referenceTaskName"] != "loop"}
    assert iterations == {98, 99, 100}
    assert {t["referenceTaskName"] for t in run["tasks"] if t["iteration"] == 99} >= {
        "fork__99",
        "parity__99",
        "route__99",
        "skip__99",
        "square__99",
        "child__99",
        "join__99",
    }


async def test_loop_with_a_worker_task_and_condition_on_its_output(client) -> None:
    definition = {
        "name": "countdown",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.step.left > 0",
                "loopOver": [{"name": "work", "taskReferenceName": "step"}],
            }
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "countdown", {})
    for left in (2, 1, 0):
        await drain(client)
        [task] = await poll(client, "work")
        assert task["referenceTaskName"] == f"step__{3 - left}"
        assert task["iteration"] == 3 - left and task["loopOverTask"] is True
        await complete(client, task, output={"left": left})
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"]["iteration"] == 3


async def test_loop_condition_error_and_validation(client) -> None:
    definition = {
        "name": "bad_loop",
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.nothing.deeper > 1",
                "loopOver": [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}],
            }
        ],
    }
    await register_workflow(client, definition)
    workflow_id = await start(client, "bad_loop", {})
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["tasks"][0]["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "TypeError" in run["tasks"][0]["reasonForIncompletion"]
    assert run["status"] == "FAILED"
    nested = {
        "name": "loops_in_loops",
        "tasks": [
            {
                "name": "outer",
                "taskReferenceName": "outer",
                "type": "DO_WHILE",
                "loopCondition": "false",
                "loopOver": [{**definition["tasks"][0], "taskReferenceName": "inner"}],
            }
        ],
    }
    assert (await client.post("/api/metadata/workflow", json=nested)).status == 400
    no_body = {"name": "empty_loop", "tasks": [{**definition["tasks"][0], "loopOver": []}]}
    assert (await client.post("/api/metadata/workflow", json=no_body)).status == 400
