"""An execution over the blocks: statuses, retries, the case taken, loop iterations, dynamic
children, sub-workflows, and tasks the definition does not hold."""

from __future__ import annotations

from typing import Any

import pytest

from conductor.engine.model import TaskStatus, TaskType
from conductor.engine.task_starts import selected_branch
from conductor.ui.diagram import graph
from conductor.ui.diagram.graph import Loop, Switch, TaskNode, Terminal
from conductor.ui.diagram.paint import (
    STATUS_OF,
    DisplayStatus,
    Painting,
    paint,
    passed,
    reached,
    taken_branch,
)
from conductor.ui.diagram.runs import execution_of
from tests.unit.ui.diagram_builders import Execution, join, loop, switch, task


def painted(
    tasks: list[dict[str, Any]], execution: Execution, **iterations: int
) -> tuple[Painting, dict[str, TaskNode]]:
    root = graph.diagram(tasks)
    nodes = {n.ref: n for n in graph.task_nodes(root)}
    return paint(root, execution_of(execution.json()), iterations), nodes


def test_every_task_status_has_a_display_status() -> None:
    assert set(STATUS_OF) == set(TaskStatus)
    assert STATUS_OF[TaskStatus.FAILED_WITH_TERMINAL_ERROR] is DisplayStatus.FAILED
    assert STATUS_OF[TaskStatus.CANCELED] is DisplayStatus.CANCELLED
    assert STATUS_OF[TaskStatus.TIMED_OUT] is DisplayStatus.TIMED_OUT


@pytest.mark.parametrize("status", list(TaskStatus))
def test_each_status_reaches_the_node(status: TaskStatus) -> None:
    run = Execution()
    run.add("a", status.value)
    painting, nodes = painted([task("a"), task("b")], run)
    assert painting.of(nodes["a"]).status is STATUS_OF[status]
    assert painting.of(nodes["b"]).status is DisplayStatus.NOT_REACHED


def test_an_unknown_status_in_the_json_is_shown_as_unknown() -> None:
    run = Execution()
    run.add("a", "PAUSED_FOR_LUNCH")
    painting, nodes = painted([task("a")], run)
    assert painting.of(nodes["a"]).status is DisplayStatus.UNKNOWN


def test_a_retried_task_shows_its_latest_attempt_and_lists_them_all() -> None:
    run = Execution()
    first = run.add("a", "FAILED", reasonForIncompletion="boom")
    second = run.add("a", "TIMED_OUT")
    third = run.add("a", "COMPLETED")
    painting, nodes = painted([task("a")], run)
    node = painting.of(nodes["a"])
    assert node.status is DisplayStatus.COMPLETED
    assert node.task_id == third
    assert node.attempts == (first, second, third)


def test_a_skipped_task_lets_the_flow_go_on() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    run.add("b", "SKIPPED")
    run.add("c", "IN_PROGRESS")
    painting, nodes = painted([task("a"), task("b"), task("c")], run)
    assert painting.of(nodes["b"]).status is DisplayStatus.SKIPPED
    assert passed(painting, nodes["b"]) and reached(painting, nodes["c"])
    assert not passed(painting, nodes["c"])


def test_the_switch_case_taken_and_the_others_dimmed() -> None:
    tasks = [switch("s", [task("d")], yes=[task("y")], no=[task("n")]), task("after")]
    run = Execution()
    run.add("s", "COMPLETED", "SWITCH", inputData={"case": "no"})
    run.add("n", "COMPLETED")
    painting, nodes = painted(tasks, run)
    [switch_block] = painting.taken
    assert painting.taken[switch_block].key == "no"
    assert painting.of(nodes["s"]).case == "no"
    assert nodes["y"] in painting.dimmed and nodes["d"] in painting.dimmed
    assert nodes["n"] not in painting.dimmed and nodes["after"] not in painting.dimmed
    assert reached(painting, switch_block)  # its merge point: the branch taken has ended


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"selectedCase": "yes"}, "yes"),
        ({"evaluationResult": ["yes"]}, "yes"),
        ({"caseOutput": ["nope"]}, "defaultCase"),
    ],
)
def test_the_case_is_read_from_conductor_outputs(output: dict[str, Any], expected: str) -> None:
    run = Execution()
    run.add("s", "COMPLETED", "SWITCH", outputData=output)
    painting, _nodes = painted([switch("s", [task("d")], yes=[task("y")])], run)
    assert [b.key for b in painting.taken.values()] == [expected]


def test_an_unevaluated_switch_dims_nothing() -> None:
    run = Execution()
    run.add("s", "SCHEDULED", "SWITCH")
    painting, _nodes = painted([switch("s", [task("d")], yes=[task("y")])], run)
    assert not painting.taken and not painting.dimmed


@pytest.mark.parametrize("kind", [TaskType.SWITCH, TaskType.DECISION])
@pytest.mark.parametrize("case", ["full", "empty", "absent", "defaultCase"])
def test_the_branch_taken_is_the_one_the_engine_schedules(kind: TaskType, case: str) -> None:
    workflow_task = {
        "name": "s",
        "taskReferenceName": "s",
        "type": kind.value,
        "decisionCases": {"full": [task("f")], "empty": [], "defaultCase": [task("named")]},
        "defaultCase": [task("dflt")],
    }
    block = graph.sequence([workflow_task]).items[0]
    assert isinstance(block, Switch)
    chosen = taken_branch(block, case)
    assert [t["taskReferenceName"] for t in selected_branch(workflow_task, case)] == [
        n.ref for n in graph.task_nodes(chosen.body)
    ]


def test_a_loop_shows_its_last_iteration_unless_another_is_picked() -> None:
    tasks = [loop("l", task("a"), task("b"))]
    run = Execution()
    run.add("l", "IN_PROGRESS", "DO_WHILE", iteration=3)
    for i, a_status in ((1, "COMPLETED"), (2, "FAILED"), (2, "COMPLETED"), (3, "COMPLETED")):
        run.add(f"a__{i}", a_status)
        if a_status == "COMPLETED" and i < 3:
            run.add(f"b__{i}", "COMPLETED")
    run.add("b__3", "IN_PROGRESS")
    painting, nodes = painted(tasks, run)
    loop_paint = painting.of(nodes["l"])
    assert loop_paint.iteration_count == 3
    assert loop_paint.iterations == (1, 2, 3)
    assert loop_paint.selected_iteration == 3
    assert painting.of(nodes["b"]).status is DisplayStatus.IN_PROGRESS
    picked, nodes = painted(tasks, run, l=2)
    assert picked.of(nodes["l"]).selected_iteration == 2
    assert len(picked.of(nodes["a"]).attempts) == 2  # iteration 2's retry
    assert picked.of(nodes["a"]).status is DisplayStatus.COMPLETED
    beyond, nodes = painted(tasks, run, l=9)
    assert beyond.of(nodes["l"]).selected_iteration == 3


def test_a_loop_holding_a_switch_takes_the_case_of_the_shown_iteration() -> None:
    tasks = [loop("l", switch("s", [task("d")], go=[task("g")]))]
    run = Execution()
    run.add("l", "COMPLETED", "DO_WHILE", iteration=2)
    run.add("s__1", "COMPLETED", "SWITCH", inputData={"case": "go"})
    run.add("g__1", "COMPLETED")
    run.add("s__2", "COMPLETED", "SWITCH", inputData={"case": "other"})
    run.add("d__2", "COMPLETED")
    last, nodes = painted(tasks, run)
    assert [b.key for b in last.taken.values()] == ["defaultCase"]
    assert nodes["g"] in last.dimmed and last.of(nodes["d"]).status is DisplayStatus.COMPLETED
    first, nodes = painted(tasks, run, l=1)
    assert [b.key for b in first.taken.values()] == ["go"]
    assert first.of(nodes["g"]).status is DisplayStatus.COMPLETED
    assert first.of(nodes["d"]).status is DisplayStatus.NOT_REACHED


def test_a_loop_that_has_not_run() -> None:
    painting, nodes = painted([task("a"), loop("l", task("b"))], Execution())
    assert painting.of(nodes["l"]).iteration_count == 0
    assert painting.of(nodes["b"]).status is DisplayStatus.NOT_REACHED


def test_dynamic_fork_children_are_counted_with_their_statuses() -> None:
    tasks = [task("dyn", "FORK_JOIN_DYNAMIC"), join("dj"), task("after")]
    run = Execution()
    run.add("dyn", "COMPLETED", "FORK", inputData={"forkedTasks": ["_w_0", "_w_1", "_w_2"]})
    run.add("_w_0", "COMPLETED", name="w")
    run.add("_w_1", "FAILED", name="w")
    run.add("_w_1", "IN_PROGRESS", name="w")
    run.add("_w_2", "SCHEDULED", name="w")
    run.add("dj", "IN_PROGRESS", "JOIN", inputData={"joinOn": ["_w_0", "_w_1", "_w_2"]})
    painting, nodes = painted(tasks, run)
    children = painting.of(nodes["dyn"]).children
    assert [(c.ref, c.status, c.attempts) for c in children] == [
        ("_w_0", DisplayStatus.COMPLETED, 1),
        ("_w_1", DisplayStatus.IN_PROGRESS, 2),
        ("_w_2", DisplayStatus.SCHEDULED, 1),
    ]
    assert all(c.name == "w" and c.task_id for c in children)
    assert not painting.extras  # the children are not lost, nor shown twice


def test_dynamic_children_found_by_the_join_when_the_fork_lacks_them() -> None:
    run = Execution()
    run.add("dyn", "COMPLETED", "FORK")
    run.add("_w_0", "COMPLETED")
    run.add("dj", "COMPLETED", "JOIN", inputData={"joinOn": ["_w_0"]})
    painting, nodes = painted([task("dyn", "FORK_JOIN_DYNAMIC"), join("dj")], run)
    assert [c.ref for c in painting.of(nodes["dyn"]).children] == ["_w_0"]


def test_a_sub_workflow_carries_its_child_run() -> None:
    run = Execution()
    run.add("sub", "IN_PROGRESS", "SUB_WORKFLOW", outputData={"subWorkflowId": "child-9"})
    run.add("sub2", "COMPLETED", "SUB_WORKFLOW", subWorkflowId="child-10")
    painting, nodes = painted([task("sub", "SUB_WORKFLOW"), task("sub2", "SUB_WORKFLOW")], run)
    assert painting.of(nodes["sub"]).child_workflow_id == "child-9"
    assert painting.of(nodes["sub2"]).child_workflow_id == "child-10"


def test_a_dynamic_task_shows_what_it_became() -> None:
    run = Execution()
    run.add("dt", "COMPLETED", "real_worker", name="real_worker")
    painting, nodes = painted([task("dt", "DYNAMIC", name="pick")], run)
    assert painting.of(nodes["dt"]).name == "real_worker"
    assert not painting.extras


def test_tasks_not_in_the_definition_are_kept_as_extras() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    run.add("gone", "FAILED")
    run.add("gone", "COMPLETED")
    run.add("old__2", "COMPLETED")
    painting, _nodes = painted([task("a")], run)
    assert [(n.ref, painting.of(n).status) for n in painting.extras] == [
        ("gone", DisplayStatus.COMPLETED),
        ("old__2", DisplayStatus.COMPLETED),
    ]
    assert len(painting.of(painting.extras[0]).attempts) == 2


def test_start_and_end_follow_the_workflow() -> None:
    root = graph.diagram([task("a")])
    start, end = root.items[0], root.items[-1]
    assert isinstance(start, Terminal) and isinstance(end, Terminal)
    for status, done in (("RUNNING", False), ("FAILED", False), ("COMPLETED", True)):
        run = Execution(status)
        run.add("a", "COMPLETED")
        painting = paint(root, execution_of(run.json()))
        assert reached(painting, start) and reached(painting, end) is done
    assert not reached(Painting(), start)  # a definition: nothing ran


def test_a_failed_loop_is_not_passed_though_its_card_heads_the_body() -> None:
    run = Execution()
    run.add("l", "FAILED", "DO_WHILE", iteration=1)
    run.add("a__1", "FAILED")
    root = graph.diagram([loop("l", task("a")), task("z")])
    painting = paint(root, execution_of(run.json()))
    block = root.items[1]
    assert isinstance(block, Loop)
    assert passed(painting, block.node)  # its card leads into the body
    assert not passed(painting, block)  # but nothing after the loop runs
