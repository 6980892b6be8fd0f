"""Builders for diagram tests: WorkflowTask dicts, execution JSON, geometry and SVG checks."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Any

from conductor.ui.diagram.layout import Box, Kind, Layout

SVG = "{http://www.w3.org/2000/svg}"
LEAVES = (Kind.CARD, Kind.DIAMOND, Kind.TERMINAL, Kind.STACK)


def task(ref: str, type_: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": extra.pop("name", ref), "taskReferenceName": ref, "type": type_, **extra}


def fork(ref: str, *lanes: list[dict[str, Any]]) -> dict[str, Any]:
    return task(ref, "FORK_JOIN", forkTasks=list(lanes))


def join(ref: str, *on: str) -> dict[str, Any]:
    return task(ref, "JOIN", joinOn=list(on))


def switch(ref: str, default: list[dict[str, Any]] | None = None, **cases: Any) -> dict[str, Any]:
    return task(
        ref,
        "SWITCH",
        evaluatorType="value-param",
        expression="x",
        decisionCases=cases,
        defaultCase=default or [],
    )


def loop(ref: str, *body: dict[str, Any]) -> dict[str, Any]:
    return task(ref, "DO_WHILE", loopCondition="true", loopOver=list(body))


class Execution:
    """Conductor's execution JSON, built task by task in schedule order."""

    def __init__(self, status: str = "RUNNING", workflow_id: str = "wf-1") -> None:
        self.status = status
        self.workflow_id = workflow_id
        self.tasks: list[dict[str, Any]] = []
        self._seq = itertools.count(1)

    def add(self, ref: str, status: str, type_: str = "SIMPLE", **extra: Any) -> str:
        seq = next(self._seq)
        task_id = str(extra.pop("task_id", f"t{seq}"))
        name = extra.pop("name", ref.split("__")[0])
        head, _, tail = ref.rpartition("__")
        iteration = int(tail) if head and tail.isdigit() else 0
        self.tasks.append(
            {
                "taskId": task_id,
                "referenceTaskName": ref,
                "taskDefName": name,
                "taskType": type_,
                "status": status,
                "seq": seq,
                "iteration": extra.pop("iteration", iteration),
                "inputData": extra.pop("inputData", {}),
                "outputData": extra.pop("outputData", {}),
                **extra,
            }
        )
        return task_id

    def json(self) -> dict[str, Any]:
        return {"workflowId": self.workflow_id, "status": self.status, "tasks": self.tasks}


# -- geometry -----------------------------------------------------------------------------------


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def inside(inner: Box, outer: Box) -> bool:
    return (
        outer.x <= inner.x
        and inner.right <= outer.right
        and outer.y <= inner.y
        and inner.bottom <= outer.bottom
    )


def on_border(point: tuple[int, int], box: Box) -> bool:
    x, y = point
    within_x, within_y = box.x <= x <= box.right, box.y <= y <= box.bottom
    return (within_x and y in (box.y, box.bottom)) or (within_y and x in (box.x, box.right))


def crosses(a: tuple[int, int], b: tuple[int, int], box: Box) -> bool:
    """Whether the axis-parallel segment a-b passes through the inside of a box."""
    (x1, y1), (x2, y2) = a, b
    if y1 == y2:
        return box.y < y1 < box.bottom and min(x1, x2) < box.right and box.x < max(x1, x2)
    return box.x < x1 < box.right and min(y1, y2) < box.bottom and box.y < max(y1, y2)


def check_geometry(result: Layout) -> None:
    """Shapes never overlap (a box contains another or is apart from it); every edge is made of
    horizontal and vertical runs, starts and ends on its shapes' borders and crosses no shape."""
    leaves = [b for b in result.boxes if b.kind in LEAVES]
    for i, a in enumerate(leaves):
        for b in leaves[i + 1 :]:
            assert not overlap(a, b), (a, b)
    for container in (b for b in result.boxes if b.kind in (Kind.LOOP, Kind.EXTRAS)):
        for other in result.boxes:
            if other is not container:
                assert (
                    inside(other, container)
                    or inside(container, other)
                    or not overlap(other, container)
                ), (other, container)
    for box in result.boxes:
        assert box.x >= 0 and box.y >= 0 and box.right <= result.width
        assert box.bottom <= result.height
    for edge in result.edges:
        assert len(edge.points) >= 2
        assert on_border(edge.points[0], edge.source), edge
        assert on_border(edge.points[-1], edge.target), edge
        if edge.source.kind is Kind.DIAMOND:
            assert edge.points[0] == (edge.source.cx, edge.source.bottom)
        for start, end in itertools.pairwise(edge.points):
            assert start[0] == end[0] or start[1] == end[1], edge.points
            for box in leaves:
                if box is not edge.source and box is not edge.target:
                    assert not crosses(start, end, box), (edge.points, box)


def boxes_of(result: Layout) -> dict[str, Box]:
    """Card, diamond and container boxes by reference name (a loop's box as `ref/loop`)."""
    found: dict[str, Box] = {}
    for box in result.boxes:
        element = box.element
        if box.kind is Kind.LOOP:
            found[f"{element.node.ref}/loop"] = box  # type: ignore[union-attr]
        elif box.kind is Kind.STACK:
            found[f"{element.node.ref}/children"] = box  # type: ignore[union-attr]
        elif box.kind in (Kind.CARD, Kind.DIAMOND):
            found[element.ref] = box  # type: ignore[union-attr]
        elif box.kind is Kind.TERMINAL:
            found[element.kind] = box  # type: ignore[union-attr]
    return found


# -- SVG ------------------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    """The SVG parsed: it is well-formed XML, with nothing active in it."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")
    for element in root.iter():
        local = element.tag.removeprefix(SVG)
        assert local not in ("script", "img", "foreignObject", "iframe", "style"), local
        for name in element.attrib:
            assert not name.lower().startswith("on"), name
            assert name != "style", element.tag
        href = element.get("href")
        if href is not None:
            assert href.startswith(("?", "/")), href
    return root


def node_by_ref(root: ET.Element, ref: str) -> ET.Element:
    found = [e for e in root.iter(f"{SVG}g") if e.get("data-ref") == ref]
    assert found, ref
    return found[0]


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def texts(element: ET.Element) -> str:
    return " ".join("".join(e.itertext()) for e in element.iter(f"{SVG}text"))
