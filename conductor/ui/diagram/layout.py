"""Top-to-bottom geometry for a tree of blocks: where every shape goes, and every edge's path.

Two passes, each visiting a block once: `_measure` sizes blocks bottom-up, `_Placer` positions
them top-down. Every block is centred on a vertical line and its entry and exit are the middle of
its top and bottom, so a sequence's edges are straight, a narrower child sits centred, and an
edge always starts and ends on the border of a shape. Coordinates are integers (SVG user units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from conductor.ui.diagram.graph import (
    Block,
    Branch,
    DynamicFork,
    Element,
    Fork,
    Loop,
    Sequence,
    Switch,
    TaskNode,
    Terminal,
)

CARD_W, CARD_H = 220, 72
DIAMOND_W, DIAMOND_H = 200, 112
TERMINAL = 44
STACK_OFFSET = 4  # each of the two cards behind a dynamic fork's stacked card
STACK_W, STACK_H = CARD_W + 2 * STACK_OFFSET, CARD_H + 2 * STACK_OFFSET
V_GAP = 40  # between blocks of a sequence
H_GAP = 32  # between lanes and branches
FAN = 32  # from a fork to its lanes, and from the lanes to the JOIN
CASE_FAN = 56  # from a switch to its branches: room for the case labels
FAN_TURN = 14  # where edges fanning out of a switch turn sideways
MERGE_TAIL = 20  # from the longest branch down to the point where branches meet
EMPTY_LANE_W = 40
EMPTY_BRANCH_W = 120  # an empty branch still shows its case label
LOOP_PAD, LOOP_BAND = 16, 28
EXTRAS_PAD, EXTRAS_BAND, EXTRAS_V_GAP, EXTRAS_MIN_COLUMNS = 16, 28, 16, 3
MARGIN = 24


class Kind(StrEnum):
    CARD = "card"
    DIAMOND = "diamond"  # a switch's own node
    TERMINAL = "terminal"  # Start, End
    MERGE = "merge"  # where branches meet: a point, drawn as a dot
    LOOP = "loop"  # the box around a loop's card and body
    STACK = "stack"  # a dynamic fork's children
    EXTRAS = "extras"  # the box around tasks the definition does not hold


Point = tuple[int, int]


@dataclass(eq=False)
class Box:
    kind: Kind
    element: Element | None  # None only for the extras box
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w


@dataclass(eq=False)
class Edge:
    points: tuple[Point, ...]
    source: Box
    target: Box
    # A switch's edge into one of its branches: the case label, where to write it, the branch.
    label: str | None = None
    label_at: Point | None = None
    branch: tuple[Switch, Branch] | None = None


@dataclass
class Layout:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)  # containers before what they contain
    edges: list[Edge] = field(default_factory=list)


def layout(root: Sequence, extras: list[TaskNode] | None = None) -> Layout:
    """Lay out `root` (Start ... End) and, below it, a box holding `extras` (no edges)."""
    sizes: dict[Block, tuple[int, int]] = {}
    width, height = _measure(root, sizes)
    extras = extras or []
    columns = min(len(extras), max(EXTRAS_MIN_COLUMNS, width // (CARD_W + H_GAP)))
    rows = -(-len(extras) // columns) if columns else 0
    extras_w = columns * CARD_W + (columns - 1) * H_GAP + 2 * EXTRAS_PAD if extras else 0
    extras_h = EXTRAS_BAND + rows * CARD_H + (rows - 1) * EXTRAS_V_GAP + EXTRAS_PAD if extras else 0
    inner_w = max(width, extras_w)
    result = Layout(inner_w + 2 * MARGIN, height + 2 * MARGIN)
    _Placer(sizes, result).block(root, MARGIN + inner_w // 2, MARGIN)
    if extras:
        top = MARGIN + height + V_GAP
        x = MARGIN + (inner_w - extras_w) // 2
        result.boxes.append(Box(Kind.EXTRAS, None, x, top, extras_w, extras_h))
        for i, node in enumerate(extras):
            row, column = divmod(i, columns)
            card_x = x + EXTRAS_PAD + column * (CARD_W + H_GAP)
            card_y = top + EXTRAS_BAND + row * (CARD_H + EXTRAS_V_GAP)
            result.boxes.append(Box(Kind.CARD, node, card_x, card_y, CARD_W, CARD_H))
        result.height += V_GAP + extras_h
    return result


def _measure(block: Block, sizes: dict[Block, tuple[int, int]]) -> tuple[int, int]:
    if isinstance(block, TaskNode):
        size = (CARD_W, CARD_H)
    elif isinstance(block, Terminal):
        size = (TERMINAL, TERMINAL)
    elif isinstance(block, Sequence):
        measured = [_measure(item, sizes) for item in block.items]
        size = (
            max((w for w, _ in measured), default=0),
            sum(h for _, h in measured) + V_GAP * max(len(measured) - 1, 0),
        )
    elif isinstance(block, Fork):
        join_h = CARD_H if block.join is not None else 0
        if not block.lanes:
            size = (CARD_W, CARD_H + V_GAP + join_h)
        else:
            lanes_w, lanes_h = _lanes([lane for lane in block.lanes], EMPTY_LANE_W, sizes)
            tail = FAN + join_h if block.join is not None else MERGE_TAIL
            size = (max(CARD_W, lanes_w), CARD_H + FAN + lanes_h + tail)
    elif isinstance(block, Switch):
        bodies = [branch.body for branch in block.branches]
        lanes_w, lanes_h = _lanes(bodies, EMPTY_BRANCH_W, sizes)
        size = (max(DIAMOND_W, lanes_w), DIAMOND_H + CASE_FAN + lanes_h + MERGE_TAIL)
    elif isinstance(block, Loop):
        body_w, body_h = _measure(block.body, sizes)
        body = V_GAP + body_h if block.body.items else 0
        size = (max(CARD_W, body_w) + 2 * LOOP_PAD, LOOP_BAND + CARD_H + body + LOOP_PAD)
    else:  # DynamicFork
        join = V_GAP + CARD_H if block.join is not None else 0
        size = (max(CARD_W, STACK_W), CARD_H + V_GAP + STACK_H + join)
    sizes[block] = size
    return size


def _lanes(
    lanes: list[Sequence], empty_w: int, sizes: dict[Block, tuple[int, int]]
) -> tuple[int, int]:
    """Total width and tallest height of lanes side by side."""
    measured = [_measure(lane, sizes) for lane in lanes]
    for lane, (w, h) in zip(lanes, measured, strict=True):
        sizes[lane] = (max(w, empty_w), h)
    widths = [sizes[lane][0] for lane in lanes]
    return sum(widths) + H_GAP * (len(widths) - 1), max((h for _, h in measured), default=0)


def _spread(box: Box, index: int, count: int) -> int:
    """The x of the index-th of `count` edges leaving or reaching a box's bottom or top."""
    return box.x + (index + 1) * box.w // (count + 1)


def _path(*points: Point) -> tuple[Point, ...]:
    """The points without repeats and without middle points of straight runs."""
    kept: list[Point] = []
    for point in points:
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and _collinear(kept[-2], kept[-1], point):
            kept[-1] = point
        else:
            kept.append(point)
    return tuple(kept)


def _collinear(a: Point, b: Point, c: Point) -> bool:
    return (a[0] == b[0] == c[0]) or (a[1] == b[1] == c[1])


class _Placer:
    def __init__(self, sizes: dict[Block, tuple[int, int]], result: Layout) -> None:
        self.sizes = sizes
        self.result = result

    def box(self, kind: Kind, element: Element, cx: int, top: int, w: int, h: int) -> Box:
        placed = Box(kind, element, cx - w // 2, top, w, h)
        self.result.boxes.append(placed)
        return placed

    def edge(self, source: Box, target: Box, *points: Point) -> Edge:
        placed = Edge(_path(*points), source, target)
        self.result.edges.append(placed)
        return placed

    def block(self, block: Block, cx: int, top: int) -> tuple[Box, Box] | None:
        """Place a block centred on `cx` from `top`: the boxes its entry and exit lie on."""
        if isinstance(block, TaskNode):
            card = self.box(Kind.CARD, block, cx, top, CARD_W, CARD_H)
            return card, card
        if isinstance(block, Terminal):
            circle = self.box(Kind.TERMINAL, block, cx, top, TERMINAL, TERMINAL)
            return circle, circle
        if isinstance(block, Sequence):
            return self.sequence(block, cx, top)
        if isinstance(block, Fork):
            return self.fork(block, cx, top)
        if isinstance(block, Switch):
            return self.switch(block, cx, top)
        if isinstance(block, Loop):
            return self.loop(block, cx, top)
        return self.dynamic_fork(block, cx, top)

    def sequence(self, block: Sequence, cx: int, top: int) -> tuple[Box, Box] | None:
        first: Box | None = None
        last: Box | None = None
        y = top
        for item in block.items:
            placed = self.block(item, cx, y)
            if placed is None:
                continue
            entry, exit_ = placed
            if last is not None:
                self.edge(last, entry, (cx, last.bottom), (cx, y))
            first = first or entry
            last = exit_
            y += self.sizes[item][1] + V_GAP
        return None if first is None or last is None else (first, last)

    def fork(self, block: Fork, cx: int, top: int) -> tuple[Box, Box]:
        fork = self.box(Kind.CARD, block.node, cx, top, CARD_W, CARD_H)
        if not block.lanes:
            if block.join is None:
                return fork, fork
            join = self.box(Kind.CARD, block.join, cx, fork.bottom + V_GAP, CARD_W, CARD_H)
            self.edge(fork, join, (cx, fork.bottom), (cx, join.y))
            return fork, join
        lanes_top = fork.bottom + FAN
        lanes_h = max(self.sizes[lane][1] for lane in block.lanes)
        if block.join is not None:
            meet = self.box(Kind.CARD, block.join, cx, lanes_top + lanes_h + FAN, CARD_W, CARD_H)
        else:
            meet = self.box(Kind.MERGE, block, cx, lanes_top + lanes_h + MERGE_TAIL, 0, 0)
        turn_out, turn_in = fork.bottom + FAN // 2, meet.y - (meet.y - lanes_top - lanes_h) // 2
        count = len(block.lanes)
        for i, (lane_cx, lane, placed) in enumerate(self._side_by_side(block.lanes, cx, lanes_top)):
            out_x, in_x = _spread(fork, i, count), _spread(meet, i, count)
            start = (out_x, fork.bottom), (out_x, turn_out), (lane_cx, turn_out)
            end = (lane_cx, turn_in), (in_x, turn_in), (in_x, meet.y)
            if placed is None:
                self.edge(fork, meet, *start, *end)
                continue
            entry, exit_ = placed
            self.edge(fork, entry, *start, (lane_cx, lanes_top))
            self.edge(exit_, meet, (lane_cx, lanes_top + self.sizes[lane][1]), *end)
        return fork, meet

    def _side_by_side(
        self, lanes: list[Sequence], cx: int, top: int
    ) -> list[tuple[int, Sequence, tuple[Box, Box] | None]]:
        """Place lanes left to right under `cx`: each lane's centre, the lane, its boxes."""
        widths = [self.sizes[lane][0] for lane in lanes]
        x = cx - (sum(widths) + H_GAP * (len(lanes) - 1)) // 2
        placed = []
        for lane, w in zip(lanes, widths, strict=True):
            lane_cx = x + w // 2
            placed.append((lane_cx, lane, self.block(lane, lane_cx, top)))
            x += w + H_GAP
        return placed

    def switch(self, block: Switch, cx: int, top: int) -> tuple[Box, Box]:
        diamond = self.box(Kind.DIAMOND, block.node, cx, top, DIAMOND_W, DIAMOND_H)
        branches_top = diamond.bottom + CASE_FAN
        branches_h = max(self.sizes[branch.body][1] for branch in block.branches)
        merge = self.box(Kind.MERGE, block, cx, branches_top + branches_h + MERGE_TAIL, 0, 0)
        turn = diamond.bottom + FAN_TURN
        label_y = turn + (CASE_FAN - FAN_TURN) // 2
        bodies = [branch.body for branch in block.branches]
        placed = self._side_by_side(bodies, cx, branches_top)
        for branch, (lane_cx, body, boxes) in zip(block.branches, placed, strict=True):
            start = (cx, diamond.bottom), (cx, turn), (lane_cx, turn)
            end = (cx, merge.y)
            if boxes is None:
                edge = self.edge(diamond, merge, *start, (lane_cx, merge.y), end)
            else:
                entry, exit_ = boxes
                edge = self.edge(diamond, entry, *start, (lane_cx, branches_top))
                bottom = branches_top + self.sizes[body][1]
                self.edge(exit_, merge, (lane_cx, bottom), (lane_cx, merge.y), end)
            edge.label = "default" if branch.default else branch.key
            edge.label_at = (lane_cx, label_y)
            edge.branch = (block, branch)
        return diamond, merge

    def loop(self, block: Loop, cx: int, top: int) -> tuple[Box, Box]:
        w, h = self.sizes[block]
        container = self.box(Kind.LOOP, block, cx, top, w, h)
        card = self.box(Kind.CARD, block.node, cx, top + LOOP_BAND, CARD_W, CARD_H)
        body_top = card.bottom + V_GAP
        placed = self.block(block.body, cx, body_top)
        if placed is not None:
            self.edge(card, placed[0], (cx, card.bottom), (cx, body_top))
        return container, container

    def dynamic_fork(self, block: DynamicFork, cx: int, top: int) -> tuple[Box, Box]:
        fork = self.box(Kind.CARD, block.node, cx, top, CARD_W, CARD_H)
        stack = self.box(Kind.STACK, block, cx, fork.bottom + V_GAP, STACK_W, STACK_H)
        self.edge(fork, stack, (cx, fork.bottom), (cx, stack.y))
        if block.join is None:
            return fork, stack
        join = self.box(Kind.CARD, block.join, cx, stack.bottom + V_GAP, CARD_W, CARD_H)
        self.edge(stack, join, (cx, stack.bottom), (cx, join.y))
        return fork, join
