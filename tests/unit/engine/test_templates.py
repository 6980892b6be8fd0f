from __future__ import annotations

import pytest

from conductor.engine.templates import java_string, references, resolve, resolve_task_input

DOC = {
    "workflow": {"input": {"a": 1, "name": "Ada", "list": [10, 20], "obj": {"k": "v"}, "key": "a"}},
    "t1": {"output": {"n": 3.5, "flag": True, "items": [{"id": 1}, {"id": 2}], "nil": None}},
    "dash-ref": {"output": {"x-y": "dashed"}},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.a}", 1),
        ("${workflow.input.list}", [10, 20]),
        ("${workflow.input.obj}", {"k": "v"}),
        ("${t1.output.flag}", True),
        ("${t1.output.nil}", None),
        ("${t1.output.missing.deep}", None),
        ("${workflow.input.list[1]}", 20),
        ("${t1.output.items[*].id}", [1, 2]),
        ("${t1.output.items.length()}", 2),
        ("${dash-ref.output['x-y']}", "dashed"),
    ],
)
def test_whole_expression_keeps_the_value_type(template, expected) -> None:
    assert resolve(template, DOC) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello ${workflow.input.name}!", "Hello Ada!"),
        ("n=${t1.output.n} f=${t1.output.flag}", "n=3.5 f=true"),
        ("id-${workflow.input.nothing}", "id-null"),
        ("${workflow.input.obj}/x", "{k=v}/x"),
        ("${workflow.input.list} items", "[10, 20] items"),
        (
            "literal $${workflow.input.a} and ${workflow.input.a}",
            "literal ${workflow.input.a} and 1",
        ),
        ("workflow.input.a", "workflow.input.a"),
    ],
)
def test_embedded_expressions_are_interpolated(template, expected) -> None:
    assert resolve(template, DOC) == expected


def test_nested_template_resolves_the_path_first() -> None:
    assert resolve("${workflow.input.${workflow.input.key}}", DOC) == 1


def test_maps_and_lists_resolve_at_any_depth_and_keys_are_untouched() -> None:
    value = {"${k}": [{"x": "${workflow.input.a}"}, 5, None], "n": 7}
    assert resolve(value, DOC) == {"${k}": [{"x": 1}, 5, None], "n": 7}


def test_task_id_system_parameter() -> None:
    assert resolve("${CPEWF_TASK_ID}", DOC, "task-1") == "task-1"
    assert resolve("id ${CPEWF_TASK_ID}", DOC, None) == "id ${CPEWF_TASK_ID}"


def test_input_template_defaults_fill_absent_and_null_values() -> None:
    resolved = resolve_task_input(
        {"a": "${workflow.input.a}", "b": "${workflow.input.none}"},
        {"b": "default-b", "c": "${workflow.input.name}"},
        DOC,
        "t",
    )
    assert resolved == {"a": 1, "b": "default-b", "c": "Ada"}


def test_java_string_forms() -> None:
    assert java_string(None) == "null"
    assert java_string(False) == "false"
    assert java_string(2.0) == "2.0"
    assert java_string({"a": [1, "x"]}) == "{a=[1, x]}"


def test_references_lists_every_expression() -> None:
    assert references({"a": "${x.output.y} and ${workflow.input.z}", "b": ["${q}"]}) == [
        "x.output.y",
        "workflow.input.z",
        "q",
    ]
