"""The diagram's geometry: shapes apart, edges on borders, lanes side by side,
narrower children centred."""

from __future__ import annotations

import itertools
from typing import Any

from conductor.engine.task_types import Shape
from conductor.ui.diagram import graph
from conductor.ui.diagram.layout import (
    CARD_H,
    CARD_W,
    DIAMOND_H,
    TERMINAL,
    V_GAP,
    Box,
    Kind,
    Layout,
    layout,
)
from tests.unit.ui.diagram_builders import (
    boxes_of,
    check_geometry,
    fork,
    join,
    loop,
    switch,
    task,
)


def laid_out(tasks: list[dict[str, Any]]) -> tuple[Layout, dict[str, Box]]:
    result = layout(graph.diagram(tasks))
    check_geometry(result)
    return result, boxes_of(result)


def test_a_sequence_stacks_its_tasks_on_one_line() -> None:
    result, boxes = laid_out([task("a"), task("b"), task("c")])
    column = [boxes[k] for k in ("start", "a", "b", "c", "end")]
    assert len({b.cx for b in column}) == 1  # narrow circles centred on the cards
    for upper, lower in itertools.pairwise(column):
        assert lower.y == upper.bottom + V_GAP
    assert len(result.edges) == 4
    for edge in result.edges:
        assert len(edge.points) == 2 and edge.points[0][0] == edge.points[1][0]
    assert boxes["a"].w == CARD_W and boxes["start"].w == TERMINAL


def test_an_empty_workflow_is_start_then_end() -> None:
    result, boxes = laid_out([])
    assert set(boxes) == {"start", "end"}
    assert len(result.edges) == 1
    edge = result.edges[0]
    assert edge.source is boxes["start"] and edge.target is boxes["end"]


def test_fork_lanes_sit_side_by_side_and_meet_at_the_join() -> None:
    result, boxes = laid_out(
        [
            fork("f", [task("a1"), task("a2")], [task("b1")], [task("c1")]),
            join("j", "a2", "b1", "c1"),
            task("after"),
        ]
    )
    lanes = [boxes["a1"], boxes["b1"], boxes["c1"]]
    assert len({b.y for b in lanes}) == 1
    assert lanes[0].right < lanes[1].x and lanes[1].right < lanes[2].x
    assert boxes["f"].cx == boxes["j"].cx == boxes["after"].cx == boxes["b1"].cx
    assert boxes["j"].y > boxes["a2"].bottom  # below the longest lane
    into_join = [e for e in result.edges if e.target is boxes["j"]]
    assert {e.source.element.ref for e in into_join} == {"a2", "b1", "c1"}  # type: ignore[union-attr]
    out_of_fork = [e for e in result.edges if e.source is boxes["f"]]
    assert {e.target.element.ref for e in out_of_fork} == {"a1", "b1", "c1"}  # type: ignore[union-attr]


def test_a_fork_inside_a_fork_lane() -> None:
    result, boxes = laid_out(
        [
            fork(
                "outer",
                [fork("inner", [task("x")], [task("y")]), join("inner_join", "x", "y")],
                [task("z")],
            ),
            join("outer_join", "inner_join", "z"),
        ]
    )
    assert boxes["x"].right < boxes["y"].x < boxes["z"].x
    assert boxes["inner"].cx == boxes["inner_join"].cx == (boxes["x"].cx + boxes["y"].cx) // 2
    assert boxes["z"].y == boxes["inner"].y  # lanes start together
    assert boxes["outer_join"].y > boxes["inner_join"].bottom
    assert sum(1 for e in result.edges if e.target is boxes["outer_join"]) == 2


def test_a_fork_without_join_and_an_empty_lane() -> None:
    result, boxes = laid_out([fork("f", [task("a")], []), task("after")])
    merges = [b for b in result.boxes if b.kind is Kind.MERGE]
    assert len(merges) == 1
    assert sum(1 for e in result.edges if e.target is merges[0]) == 2  # lane a, and the empty one
    assert any(e.source is merges[0] and e.target is boxes["after"] for e in result.edges)


def test_switch_branches_sit_side_by_side_under_a_diamond() -> None:
    result, boxes = laid_out(
        [switch("s", [task("d")], yes=[task("y1"), task("y2")], no=[], maybe=[task("m")])]
    )
    diamond = boxes["s"]
    assert diamond.kind is Kind.DIAMOND and diamond.h == DIAMOND_H
    labelled = [e for e in result.edges if e.label is not None]
    assert [e.label for e in labelled] == ["yes", "no", "maybe", "default"]
    assert all(e.source is diamond for e in labelled)
    xs = [e.label_at[0] for e in labelled]  # type: ignore[index]
    assert xs == sorted(xs)  # branches left to right in definition order, default last
    assert boxes["y1"].y == boxes["m"].y == boxes["d"].y
    merge = next(b for b in result.boxes if b.kind is Kind.MERGE)
    assert merge.cx == diamond.cx and merge.y > boxes["y2"].bottom
    assert {e.source for e in result.edges if e.target is merge} == {
        boxes["y2"],
        boxes["m"],
        boxes["d"],
        diamond,  # the empty branch goes straight to the merge point
    }


def test_a_loop_is_a_box_around_its_card_and_body() -> None:
    result, boxes = laid_out([task("a"), loop("l", task("b"), task("c")), task("z")])
    box = boxes["l/loop"]
    for ref in ("l", "b", "c"):
        assert box.x < boxes[ref].x and boxes[ref].right < box.right
        assert box.y < boxes[ref].y and boxes[ref].bottom < box.bottom
    assert boxes["l"].y < boxes["b"].y < boxes["c"].y
    assert any(e.source is boxes["a"] and e.target is box for e in result.edges)
    assert any(e.source is box and e.target is boxes["z"] for e in result.edges)
    assert box.cx == boxes["a"].cx == boxes["b"].cx


def test_a_loop_holding_a_switch_and_a_fork() -> None:
    laid_out(
        [
            loop(
                "l",
                switch("s", [task("d")], a=[task("x")], b=[fork("f", [task("p")], [task("q")])]),
                join("j", "p", "q"),
            )
        ]
    )


def test_a_dynamic_fork_is_one_stacked_card_between_fork_and_join() -> None:
    result, boxes = laid_out([task("dyn", "FORK_JOIN_DYNAMIC"), join("dj"), task("after")])
    stack = boxes["dyn/children"]
    assert boxes["dyn"].bottom < stack.y < stack.bottom < boxes["dj"].y
    assert stack.cx == boxes["dyn"].cx == boxes["dj"].cx
    pairs = {(e.source.kind, e.target.kind) for e in result.edges}
    assert (Kind.CARD, Kind.STACK) in pairs and (Kind.STACK, Kind.CARD) in pairs


def test_narrow_children_are_centred_under_wide_siblings() -> None:
    result, boxes = laid_out(
        [task("top"), fork("f", [task("a")], [task("b")], [task("c")]), join("j"), task("end_")]
    )
    widest = max(b.right for b in result.boxes) - min(b.x for b in result.boxes)
    assert widest > CARD_W
    middle = (boxes["a"].x + boxes["c"].right) // 2
    for ref in ("top", "f", "j", "end_", "start", "end"):
        assert abs(boxes[ref].cx - middle) <= 1, ref


def test_cards_are_the_same_size() -> None:
    result, _ = laid_out([task("a"), fork("f", [task("b")]), join("j")])
    assert {(b.w, b.h) for b in result.boxes if b.kind is Kind.CARD} == {(CARD_W, CARD_H)}


def test_extras_go_in_a_box_below_the_diagram() -> None:
    root = graph.diagram([task("a")])
    extras = [graph.TaskNode(f"x{i}", "x", "SIMPLE", Shape.TASK) for i in range(5)]
    result = layout(root, extras)
    check_geometry(result)
    box = next(b for b in result.boxes if b.kind is Kind.EXTRAS)
    end = next(b for b in result.boxes if b.kind is Kind.TERMINAL and b.y > 100)
    assert box.y > end.bottom
    cards = [b for b in result.boxes if b.element in extras]
    assert len(cards) == 5 and all(b.y > box.y for b in cards)
    assert not any(e.source in cards or e.target in cards for e in result.edges)


def test_layout_is_deterministic() -> None:
    tasks = [switch("s", [task("d")], a=[task("x")]), loop("l", task("y"))]

    def shape(result: Layout) -> tuple[list[Any], list[Any]]:
        return [(b.kind, b.x, b.y, b.w, b.h) for b in result.boxes], [
            e.points for e in result.edges
        ]

    assert shape(layout(graph.diagram(tasks))) == shape(layout(graph.diagram(tasks)))
