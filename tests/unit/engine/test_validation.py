from __future__ import annotations

import pytest

from conductor.engine.validation import validate_task_def, validate_workflow_def


def paths(errors) -> list[str]:
    return [e.path for e in errors]


def wf(**kw):
    base = {"name": "wf", "tasks": [{"name": "a", "taskReferenceName": "a"}]}
    base.update(kw)
    return base


def test_valid_definitions_pass() -> None:
    assert validate_workflow_def(wf()) == []
    assert validate_task_def({"name": "t", "retryCount": 2, "timeoutSeconds": 7200}) == []


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        (wf(name=""), "workflowDef.name"),
        (wf(tasks=[]), "workflowDef.tasks"),
        (wf(schemaVersion=1), "workflowDef.schemaVersion"),
        (wf(timeoutPolicy="SOMETIMES"), "workflowDef.timeoutPolicy"),
        (wf(timeoutSeconds="60"), "workflowDef.timeoutSeconds"),
        (wf(tasks=[{"name": "a"}]), "workflowDef.tasks[a].taskReferenceName"),
        (wf(tasks=[{"taskReferenceName": "r"}]), "workflowDef.tasks[r].name"),
        (
            wf(tasks=[{"name": "a", "taskReferenceName": "r", "startDelay": -1}]),
            "workflowDef.tasks[r].startDelay",
        ),
        (
            wf(tasks=[{"name": "a", "taskReferenceName": "r", "type": "KAFKA_PUBLISH"}]),
            "workflowDef.tasks[r].type",
        ),
    ],
)
def test_invalid_workflow_defs_name_the_field(definition, path) -> None:
    assert path in paths(validate_workflow_def(definition))


def test_duplicate_reference_names_are_refused() -> None:
    errors = validate_workflow_def(
        wf(tasks=[{"name": "a", "taskReferenceName": "x"}, {"name": "b", "taskReferenceName": "x"}])
    )
    assert any("should be unique" in e.message for e in errors)


def test_input_referencing_an_unknown_task_is_refused() -> None:
    errors = validate_workflow_def(
        wf(
            tasks=[
                {
                    "name": "a",
                    "taskReferenceName": "a",
                    "inputParameters": {"v": "${nope.output.x}"},
                }
            ]
        )
    )
    assert errors and "nope" in errors[0].message


@pytest.mark.parametrize(
    ("task_def", "path"),
    [
        ({"name": ""}, "taskDef.name"),
        ({"name": "t", "retryCount": -1}, "taskDef.retryCount"),
        ({"name": "t", "responseTimeoutSeconds": 0}, "taskDef.responseTimeoutSeconds"),
        ({"name": "t", "retryLogic": "RANDOM"}, "taskDef.retryLogic"),
        ({"name": "t", "timeoutSeconds": 120}, "taskDef.responseTimeoutSeconds"),
        ({"name": "t", "backoffScaleFactor": 0}, "taskDef.backoffScaleFactor"),
        ({"name": "t", "retryCount": "3"}, "taskDef.retryCount"),
    ],
)
def test_invalid_task_defs_name_the_field(task_def, path) -> None:
    assert path in paths(validate_task_def(task_def))


def _errors_for(task: dict, *more: dict) -> list[str]:
    return [e.message for e in validate_workflow_def(wf(tasks=[task, *more]))]


def test_system_task_rules() -> None:
    switch = {
        "name": "s",
        "taskReferenceName": "s",
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": "k",
        "decisionCases": {"a": [{"name": "x", "taskReferenceName": "x"}]},
    }
    assert _errors_for(switch) == []
    assert any("decisionCases" in m for m in _errors_for({**switch, "decisionCases": {}}))
    assert any("expression" in m for m in _errors_for({**switch, "expression": None}))
    assert any("evaluatorType" in m for m in _errors_for({**switch, "evaluatorType": None}))
    # Conductor fails the run for an evaluator it lacks, so registration accepts it.
    assert _errors_for({**switch, "evaluatorType": "python"}) == []
    decision = {
        "name": "d",
        "taskReferenceName": "d",
        "type": "DECISION",
        "caseValueParam": "k",
        "decisionCases": {"a": []},
    }
    assert _errors_for(decision) == []
    assert any("caseValueParam" in m for m in _errors_for({**decision, "caseValueParam": None}))
    terminate = {
        "name": "t",
        "taskReferenceName": "t",
        "type": "TERMINATE",
        "inputParameters": {"terminationStatus": "COMPLETED"},
    }
    assert _errors_for(terminate) == []
    assert any(
        "terminationStatus" in m
        for m in _errors_for({**terminate, "inputParameters": {"terminationStatus": "DONE"}})
    )
    assert any("cannot be optional" in m for m in _errors_for({**terminate, "optional": True}))


def test_a_fork_without_a_join_is_accepted_as_by_conductor() -> None:
    fork = {
        "name": "f",
        "taskReferenceName": "f",
        "type": "FORK_JOIN",
        "forkTasks": [
            [{"name": "a", "taskReferenceName": "a"}],
            [{"name": "b", "taskReferenceName": "b"}],
        ],
    }
    join = {"name": "j", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["a", "b"]}
    assert _errors_for(fork, join) == []
    assert _errors_for(fork) == []  # the run fails when it reaches the fork (ForkJoinTaskMapper)
    assert _errors_for(fork, {**join, "joinOn": ["a", "zz"]}) == []  # accepted, as in Conductor
    assert any("forkTasks" in m for m in _errors_for({**fork, "forkTasks": []}, join))


@pytest.mark.parametrize(
    "kind", ["INLINE", "JSON_JQ_TRANSFORM", "HTTP", "WAIT", "TERMINATE", "FORK_JOIN_DYNAMIC"]
)
def test_input_parameters_that_are_not_an_object_are_a_problem_not_a_crash(kind: str) -> None:
    definition = {
        "name": "wf",
        "tasks": [{"name": "a", "taskReferenceName": "a", "type": kind, "inputParameters": "x"}],
    }
    paths = [problem.path for problem in validate_workflow_def(definition)]
    assert paths[0] == "workflowDef.tasks[a].inputParameters"


def test_an_inline_task_definition_needs_no_name_and_only_its_types_are_checked() -> None:
    task = {"name": "a", "taskReferenceName": "a", "taskDefinition": {"retryCount": 0}}
    assert _errors_for(task) == []
    relaxed = {"responseTimeoutSeconds": 0, "timeoutSeconds": 5, "backoffScaleFactor": 0}
    assert _errors_for({**task, "taskDefinition": relaxed}) == []
    typed = {**task, "taskDefinition": {"retryCount": "x"}}
    assert any("retryCount" in m for m in _errors_for(typed))
    bad_logic = {**task, "taskDefinition": {"retryLogic": "SOMETIMES"}}
    assert any("retryLogic" in m for m in _errors_for(bad_logic))
    assert any("name" in m for m in (e.message for e in validate_task_def({"retryCount": 0})))


def test_system_tasks_need_what_conductor_needs_and_no_more() -> None:
    def task(kind: str, **fields: object) -> dict[str, object]:
        return {"name": kind.lower(), "taskReferenceName": kind.lower(), "type": kind, **fields}

    assert _errors_for(task("EVENT", sink="sqs:orders")) == []
    assert _errors_for(task("EVENT"))
    assert _errors_for(task("INLINE", inputParameters={"evaluatorType": "python"})) == []
    assert _errors_for(task("HTTP", inputParameters={"uri": "http://x"})) == []
    assert _errors_for(task("HTTP", inputParameters={}))
    templated = {"inputTemplate": {"queryExpression": "."}}
    assert _errors_for(task("JSON_JQ_TRANSFORM", taskDefinition=templated)) == []
    assert _errors_for(task("JSON_JQ_TRANSFORM"))
    both = {"inputParameters": {"forkTaskInputs": []}, "dynamicForkTasksParam": "t"}
    assert _errors_for(task("FORK_JOIN_DYNAMIC", **both), task("JOIN")) == []
    listed = {"dynamicForkTasksParam": "t", "dynamicForkTasksInputParamName": "i"}
    assert _errors_for(task("FORK_JOIN_DYNAMIC", **listed), task("JOIN")) == []
    half = {"dynamicForkTasksParam": "t"}
    assert _errors_for(task("FORK_JOIN_DYNAMIC", **half), task("JOIN"))
    mixed = {**listed, "dynamicForkJoinTasksParam": "old"}
    assert _errors_for(task("FORK_JOIN_DYNAMIC", **mixed), task("JOIN"))
    assert _errors_for(task("SIMPLE", retryCount=-1)) == []
    assert validate_workflow_def(wf(timeoutSeconds=-1)) == []  # no timeout, as in Conductor
