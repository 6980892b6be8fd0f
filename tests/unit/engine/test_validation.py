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
        (wf(tasks=[{"name": "a"}]), "workflowDef.tasks[a].taskReferenceName"),
        (wf(tasks=[{"taskReferenceName": "r"}]), "workflowDef.tasks[r].name"),
        (
            wf(tasks=[{"name": "a", "taskReferenceName": "r", "startDelay": -1}]),
            "workflowDef.tasks[r].startDelay",
        ),
        (
            wf(tasks=[{"name": "a", "taskReferenceName": "r", "type": "SWITCH"}]),
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
