"""The task-type table is complete and consistent: no type registered by halves."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from conductor.engine import task_rules, task_starts
from conductor.engine.model import TaskType
from conductor.engine.task_types import (
    TASK_TYPES,
    Lane,
    Runtime,
    Shape,
    TaskTypeSpec,
    is_system_type,
    spec_of,
)
from conductor.engine.validation import validate_workflow_def

SPECS = list(TASK_TYPES.values())


def _ids(spec: TaskTypeSpec) -> str:
    return spec.type.value


def test_every_type_has_exactly_one_entry() -> None:
    assert sorted(TASK_TYPES) == sorted(t.value for t in TaskType)
    for name, spec in TASK_TYPES.items():
        assert spec.type.value == name


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_a_supported_system_type_has_a_way_to_run(spec: TaskTypeSpec) -> None:
    if spec.worker or not spec.supported:
        return
    assert spec.start or spec.substitute or spec.runtime, spec.type
    if spec.start is None and spec.substitute is None:
        # Only a runtime does its work: starting a task must always hand it over.
        assert spec.deferred({"type": spec.type.value}), spec.type


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_a_runtime_has_a_lane_and_a_lane_a_runtime(spec: TaskTypeSpec) -> None:
    assert (spec.runtime is None) == (spec.lane is None), spec.type
    if spec.prepare is not None:
        assert spec.runtime is not None, spec.type


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_workers_and_unsupported_types_have_no_behaviour(spec: TaskTypeSpec) -> None:
    if spec.worker or not spec.supported:
        assert spec.start is None and spec.runtime is None and spec.substitute is None
        assert spec.rules == () and spec.join is None


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_joins_and_join_rules_go_together(spec: TaskTypeSpec) -> None:
    assert (spec.shape is Shape.JOIN) == (spec.join is not None), spec.type


def test_every_runtime_serves_a_type() -> None:
    used = {spec.runtime for spec in SPECS if spec.runtime is not None}
    assert used == set(Runtime)


def test_only_calls_out_of_the_server_are_isolated() -> None:
    isolated = {spec.type for spec in SPECS if spec.lane is Lane.ISOLATED}
    assert isolated == {TaskType.HTTP}


def _public_functions(module: ModuleType, parameters: int) -> set[str]:
    return {
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and len(inspect.signature(fn).parameters) == parameters
        and inspect.signature(fn).return_annotation in ("StartResult", "Iterator[ValidationError]")
    }


def test_every_starter_belongs_to_a_type() -> None:
    starters = _public_functions(task_starts, 3)
    used = {spec.start.__name__ for spec in SPECS if spec.start is not None}
    assert starters == used


def test_every_rule_belongs_to_a_type() -> None:
    rules = _public_functions(task_rules, 2)
    used = {rule.__name__ for spec in SPECS for rule in spec.rules}
    assert rules == used


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.supported], ids=_ids)
def test_unsupported_types_are_refused_at_registration(spec: TaskTypeSpec) -> None:
    definition = {
        "name": "wf",
        "tasks": [{"name": "x", "taskReferenceName": "x", "type": spec.type.value}],
    }
    problems = validate_workflow_def(definition)
    assert [p.path for p in problems] == ["workflowDef.tasks[x].type"]


def test_an_unknown_type_is_a_worker_task() -> None:
    assert spec_of({"type": "my_own_worker_type"}).worker
    assert spec_of({}).worker
    assert not is_system_type("my_own_worker_type")
    assert is_system_type("KAFKA_PUBLISH") and not is_system_type("SIMPLE")
