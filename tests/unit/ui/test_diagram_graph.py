"""A definition's task list as blocks: shapes from the task-type table, JOINs taken into their
forks, switch branches in order with the default last, malformed input left out."""

from __future__ import annotations

from conductor.engine.task_types import Shape
from conductor.ui.diagram import graph
from tests.unit.ui.diagram_builders import fork, join, loop, switch, task


def test_blocks_follow_the_task_type_table() -> None:
    root = graph.diagram(
        [
            task("a"),
            fork("f", [task("b")], [task("c")]),
            join("j", "b", "c"),
            switch("s", [task("d")], yes=[task("e")]),
            loop("l", task("g")),
            task("dyn", "FORK_JOIN_DYNAMIC"),
            join("dj"),
            task("sub", "SUB_WORKFLOW"),
            task("stop", "TERMINATE"),
            task("w", "WAIT"),
        ]
    )
    kinds = [type(item).__name__ for item in root.items]
    assert kinds == [
        "Terminal",
        "TaskNode",
        "Fork",
        "Switch",
        "Loop",
        "DynamicFork",
        "TaskNode",
        "TaskNode",
        "TaskNode",
        "Terminal",
    ]
    fork_block, switch_block = root.items[2], root.items[3]
    assert isinstance(fork_block, graph.Fork) and fork_block.join is not None
    assert fork_block.join.ref == "j"
    assert isinstance(switch_block, graph.Switch)
    assert [(b.key, b.default) for b in switch_block.branches] == [
        ("yes", False),
        ("defaultCase", True),
    ]
    shapes = [item.shape for item in root.items[6:9] if isinstance(item, graph.TaskNode)]
    assert shapes == [Shape.SUB_WORKFLOW, Shape.TERMINATE, Shape.WAIT]


def test_malformed_task_lists_give_what_can_be_drawn() -> None:
    root = graph.diagram([None, "x", task("a"), {"type": "FORK_JOIN", "forkTasks": "no"}])
    assert [type(i).__name__ for i in root.items] == ["Terminal", "TaskNode", "Fork", "Terminal"]
    assert graph.diagram("not a list").items[1].kind == "end"  # type: ignore[union-attr]


def test_a_block_is_left_from_its_last_shape() -> None:
    root = graph.diagram([fork("f", [task("a")]), join("j"), switch("s", yes=[task("y")])])
    fork_block, switch_block = root.items[1], root.items[2]
    assert isinstance(fork_block, graph.Fork) and fork_block.join is not None
    assert graph.exit_element(fork_block) is fork_block.join
    assert graph.exit_element(switch_block) is switch_block  # its merge point
    assert graph.exit_element(graph.Sequence()) is None
    assert [n.ref for n in graph.task_nodes(root)] == ["f", "a", "j", "s", "y"]
