"""A laid-out, painted diagram as an SVG document (a string), styled by static/diagram.css.

Made for a strict Content-Security-Policy: no script, no event handler, no style attribute;
every look comes from a class. Everything a user wrote (names, references, case values, ids)
is escaped, and characters XML cannot hold are replaced, so the output always parses. Status is
told by text and an icon as well as by colour.
"""

from __future__ import annotations

import re
from collections import Counter
from xml.sax.saxutils import escape, quoteattr

from conductor.engine.model import base_ref
from conductor.ui.diagram.graph import DynamicFork, Loop, TaskNode, Terminal
from conductor.ui.diagram.layout import CARD_H, CARD_W, STACK_OFFSET, Box, Edge, Kind, Layout
from conductor.ui.diagram.links import Links
from conductor.ui.diagram.paint import DisplayStatus, NodePaint, Painting, passed, reached

# Icon and words for each status: the text says what the outline colour says.
LABELS: dict[DisplayStatus, tuple[str, str]] = {
    DisplayStatus.COMPLETED: ("\u2713", "completed"),
    DisplayStatus.COMPLETED_WITH_ERRORS: ("\u26a0", "completed with errors"),
    DisplayStatus.FAILED: ("\u2717", "failed"),
    DisplayStatus.TIMED_OUT: ("\u25d4", "timed out"),
    DisplayStatus.CANCELLED: ("\u2298", "cancelled"),
    DisplayStatus.SKIPPED: ("\u21b7", "skipped"),
    DisplayStatus.IN_PROGRESS: ("\u25b6", "in progress"),
    DisplayStatus.SCHEDULED: ("\u25f7", "scheduled"),
    DisplayStatus.NOT_REACHED: ("\u25cb", "not reached"),
    DisplayStatus.UNKNOWN: ("?", "unknown status"),
}

LEGEND_ITEM_W, LEGEND_ROW_H, LEGEND_PAD, LEGEND_COLUMNS = 170, 22, 16, 4
MIN_WIDTH = LEGEND_COLUMNS * LEGEND_ITEM_W + 2 * LEGEND_PAD  # the legend fits in 4 columns
# A dynamic fork's children drawn one by one (fewer when "+N more" needs the room).
MAX_CHIPS, CHIPS_BEFORE_MORE = 12, 8

# The status a dynamic fork's stacked card shows for its children: the first any child has.
SEVERITY = (
    DisplayStatus.FAILED,
    DisplayStatus.TIMED_OUT,
    DisplayStatus.CANCELLED,
    DisplayStatus.UNKNOWN,
    DisplayStatus.IN_PROGRESS,
    DisplayStatus.SCHEDULED,
    DisplayStatus.COMPLETED_WITH_ERRORS,
    DisplayStatus.SKIPPED,
    DisplayStatus.COMPLETED,
    DisplayStatus.NOT_REACHED,
)

# XML 1.0 cannot hold these, even escaped; JSON strings can.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _text(value: str) -> str:
    return escape(_clean(value))


def _attr(value: str) -> str:
    """An attribute value with its quotes."""
    return quoteattr(_clean(value))


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def status_label(status: DisplayStatus) -> str:
    icon, words = LABELS[status]
    return f"{icon} {words}"


def render(layout: Layout, painting: Painting, links: Links, title: str) -> str:
    """The SVG document. `painting.workflow_status` None draws a definition: no statuses."""
    legend = _Legend(painting) if painting.workflow_status is not None else None
    width = max(layout.width, MIN_WIDTH) if legend else layout.width
    legend_h = legend.height if legend else 0
    height = layout.height + legend_h
    out: list[str] = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="cd-diagram"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{_text(title)}</title>",
        _DEFS,
    ]
    if legend is not None:
        out.append(legend.render())
    out.append(f'<g class="graph" transform="translate({(width - layout.width) // 2},{legend_h})">')
    drawer = _Drawer(painting, links, out)
    for box in layout.boxes:  # containers first, so edges inside them stay visible
        if box.kind in (Kind.LOOP, Kind.EXTRAS):
            drawer.container(box)
    drawer.edges(layout.edges)
    out.append('<g class="nodes">')
    for box in layout.boxes:
        if box.kind not in (Kind.LOOP, Kind.EXTRAS):
            drawer.node(box)
    out.append("</g></g></svg>")
    return "".join(out)


_DEFS = (
    "<defs>"
    '<marker id="cd-arrow" class="arrow" viewBox="0 0 10 10" refX="10" refY="5"'
    ' markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z"/></marker>'
    '<marker id="cd-arrow-executed" class="arrow executed" viewBox="0 0 10 10" refX="10"'
    ' refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z"/></marker>'
    '<pattern id="cd-failed-stripes" class="failed-stripes" width="8" height="8"'
    ' patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect class="stripe-ground" width="8" height="8"/><rect class="stripe" width="3" height="8"/>'
    "</pattern>"
    "</defs>"
)


class _Legend:
    """Each status with its icon and words, the two kinds of edge, and the workflow's status."""

    def __init__(self, painting: Painting) -> None:
        self.workflow_status = painting.workflow_status or ""
        self.items: list[tuple[str, str]] = [
            (f"swatch status-{status.value}", status_label(status))
            for status in DisplayStatus
            if status is not DisplayStatus.UNKNOWN
        ]
        self.items.append(("line executed", "executed path"))
        self.items.append(("line", "not run / not taken"))
        rows = -(-len(self.items) // LEGEND_COLUMNS)
        self.height = LEGEND_PAD + LEGEND_ROW_H * (rows + 1) + LEGEND_PAD

    def render(self) -> str:
        status = self.workflow_status
        out = [
            '<g class="legend">',
            f'<text class="workflow-status" x="{LEGEND_PAD}" y="{LEGEND_PAD + 12}">'
            f"Workflow status: {_text(status)}</text>",
        ]
        for i, (kind, words) in enumerate(self.items):
            row, column = divmod(i, LEGEND_COLUMNS)
            x = LEGEND_PAD + column * LEGEND_ITEM_W
            y = LEGEND_PAD + LEGEND_ROW_H * (row + 1)
            if kind.startswith("line"):
                out.append(
                    f'<line class="{kind}" x1="{x}" y1="{y + 9}" x2="{x + 16}" y2="{y + 9}"/>'
                )
            else:
                out.append(
                    f'<rect class="{kind}" x="{x}" y="{y + 2}" width="16" height="14" rx="3"/>'
                )
            out.append(f'<text x="{x + 22}" y="{y + 13}">{_text(words)}</text>')
        out.append("</g>")
        return "".join(out)


class _Drawer:
    def __init__(self, painting: Painting, links: Links, out: list[str]) -> None:
        self.painting = painting
        self.links = links
        self.out = out
        self.executions = painting.workflow_status is not None

    def _status_class(self, status: DisplayStatus) -> str:
        return f" status-{status.value}" if self.executions else ""

    def _dimmed(self, element: object) -> str:
        return " dimmed" if element in self.painting.dimmed else ""

    # -- edges ----------------------------------------------------------------------------

    def edges(self, edges: list[Edge]) -> None:
        """Grey edges under coloured ones where they share a run, case labels over both."""
        lines: list[tuple[int, str]] = []
        labels: list[str] = []
        for edge in edges:
            source, target = edge.source.element, edge.target.element
            if source is None or target is None:  # only the extras box has none, and no edge
                continue
            executed = passed(self.painting, source) and reached(self.painting, target)
            dimmed = source in self.painting.dimmed or target in self.painting.dimmed
            taken = False
            if edge.branch is not None:
                switch, branch = edge.branch
                chosen = self.painting.taken.get(switch)
                taken = chosen is branch
                executed = executed and taken  # an empty untaken branch joins two reached shapes
                dimmed = dimmed or (chosen is not None and not taken)
            classes = "edge" + (" executed" if executed else "") + (" dimmed" if dimmed else "")
            points = " ".join(f"{x},{y}" for x, y in edge.points)
            marker = ""
            if edge.target.kind is not Kind.MERGE:  # a merge point is no destination
                marker = f' marker-end="url(#cd-arrow{"-executed" if executed else ""})"'
            rank = 2 if executed else 0 if dimmed else 1
            lines.append((rank, f'<polyline class="{classes}" points="{points}"{marker}/>'))
            if edge.label is not None and edge.label_at is not None:
                labels.append(self._case_label(edge.label, edge.label_at, taken, dimmed))
        lines.sort(key=lambda line: line[0])  # stable: the layout's order within a rank
        self.out.append('<g class="edges">')
        self.out.extend(line for _rank, line in lines)
        self.out.extend(labels)
        self.out.append("</g>")

    def _case_label(self, text: str, at: tuple[int, int], taken: bool, dimmed: bool) -> str:
        x, y = at
        label = _clip(text, 16)
        w = 7 * len(label) + 12
        classes = "case-label" + (" taken" if taken else "") + (" dimmed" if dimmed else "")
        return (
            f'<g class="{classes}"><title>case {_text(text)}</title>'
            f'<rect x="{x - w // 2}" y="{y - 9}" width="{w}" height="18" rx="9"/>'
            f'<text x="{x}" y="{y + 4}" text-anchor="middle">{_text(label)}</text></g>'
        )

    # -- nodes ----------------------------------------------------------------------------

    def node(self, box: Box) -> None:
        element = box.element
        if box.kind is Kind.TERMINAL and isinstance(element, Terminal):
            self.terminal(box, element)
        elif box.kind is Kind.MERGE:
            self.out.append(
                f'<circle class="merge{self._dimmed(element)}" cx="{box.x}" cy="{box.y}" r="3"/>'
            )
        elif box.kind is Kind.STACK and isinstance(element, DynamicFork):
            self.stack(box, element)
        elif isinstance(element, TaskNode):
            self.task(box, element)

    def terminal(self, box: Box, terminal: Terminal) -> None:
        on = self.executions and reached(self.painting, terminal)
        classes = f"node terminal {terminal.kind}" + (" reached" if on else "")
        r = box.w // 2
        self.out.append(
            f'<g class="{classes}"><circle cx="{box.cx}" cy="{box.y + r}" r="{r}"/>'
            f'<text x="{box.cx}" y="{box.y + r + 4}" text-anchor="middle">'
            f"{'Start' if terminal.kind == 'start' else 'End'}</text></g>"
        )

    def _open(self, node: TaskNode, painted: NodePaint, kind: str) -> None:
        """A node's group and, when it has somewhere to lead, its link."""
        attrs = [f"data-ref={_attr(node.ref)}", f"data-type={_attr(node.type)}"]
        if self.executions:
            attrs.append(f'data-status="{painted.status.value}"')
        if painted.task_id:
            attrs.append(f"data-task-id={_attr(painted.task_id)}")
        if len(painted.attempts) > 1:
            attrs.append(f"data-attempts={_attr(' '.join(painted.attempts))}")
        if painted.child_workflow_id:
            attrs.append(f"data-child-workflow-id={_attr(painted.child_workflow_id)}")
        if painted.case is not None:
            attrs.append(f"data-case={_attr(painted.case)}")
        classes = (
            f"node {kind} shape-{node.shape.value}{self._status_class(painted.status)}"
            f"{' retried' if len(painted.attempts) > 1 else ''}{self._dimmed(node)}"
        )
        self.out.append(f'<g class="{classes}" {" ".join(attrs)}>')
        href = (
            self.links.task(painted.task_id) if painted.task_id else self.links.reference(node.ref)
        )
        self.out.append(f"<a href={_attr(href)}>" if href else "<a>")
        self.out.append(f"<title>{_text(self._tooltip(node, painted))}</title>")

    def _tooltip(self, node: TaskNode, painted: NodePaint) -> str:
        parts = [f"{node.name} ({node.ref}), {node.type}"]
        if painted.name:
            parts.append(f"ran as {painted.name}")
        if self.executions:
            parts.append(status_label(painted.status))
        if len(painted.attempts) > 1:
            parts.append(f"the latest of {len(painted.attempts)} attempts")
        if painted.case is not None:
            parts.append(f"case {painted.case}")
        if painted.reason:
            parts.append(_clip(painted.reason, 300))
        return " \u00b7 ".join(parts)

    def _status_line(self, painted: NodePaint) -> str:
        if not self.executions:
            return ""
        line = status_label(painted.status)
        if len(painted.attempts) > 1:
            line += f" \u00b7 attempt {len(painted.attempts)}"
        return line

    def task(self, box: Box, node: TaskNode) -> None:
        painted = self.painting.of(node)
        if box.kind is Kind.DIAMOND:
            self.diamond(box, node, painted)
            return
        self._open(node, painted, "card")
        name = node.name if not painted.name else f"{node.name} \u2192 {painted.name}"
        x, y, right = box.x, box.y, box.right
        tag = _clip(node.type, 18)
        # The reference and the type tag share a line: ~7 units a character, ~6 in the tag.
        ref = _clip(node.ref, max(8, (box.w - 30 - 6 * len(tag)) // 7))
        self.out.append(
            f'<rect class="box" x="{x}" y="{y}" width="{box.w}" height="{box.h}" rx="6"/>'
            f'<text class="name" x="{x + 10}" y="{y + 20}">{_text(_clip(name, 26))}</text>'
            f'<text class="ref" x="{x + 10}" y="{y + 38}">{_text(ref)}</text>'
            f'<text class="tag" x="{right - 10}" y="{y + 38}" text-anchor="end">{_text(tag)}</text>'
            f'<text class="state-label" x="{x + 10}" y="{y + 60}">'
            f"{_text(self._status_line(painted))}</text></a>"
        )
        if painted.child_workflow_id:  # a second link: the card's own opens the task
            href = self.links.execution(painted.child_workflow_id)
            self.out.append(
                f'<a class="child-link" href={_attr(href)}><title>open the child run '
                f"{_text(painted.child_workflow_id)}</title>"
                f'<text x="{right - 10}" y="{y + 60}" text-anchor="end">child run \u2197</text></a>'
            )
        self.out.append("</g>")

    def diamond(self, box: Box, node: TaskNode, painted: NodePaint) -> None:
        self._open(node, painted, "diamond")
        cx, cy = box.cx, box.y + box.h // 2
        points = f"{cx},{box.y} {box.right},{cy} {cx},{box.bottom} {box.x},{cy}"
        self.out.append(
            f'<polygon class="box" points="{points}"/>'
            f'<text class="tag" x="{cx}" y="{cy - 26}" text-anchor="middle">'
            f"{_text(_clip(node.type, 10))}</text>"
            f'<text class="name" x="{cx}" y="{cy - 8}" text-anchor="middle">'
            f"{_text(_clip(node.name, 16))}</text>"
            f'<text class="ref" x="{cx}" y="{cy + 8}" text-anchor="middle">'
            f"{_text(_clip(node.ref, 16))}</text>"
            f'<text class="state-label" x="{cx}" y="{cy + 26}" text-anchor="middle">'
            f"{_text(_clip(self._status_line(painted), 16))}</text></a></g>"
        )

    def stack(self, box: Box, fork: DynamicFork) -> None:
        """One card for the children a dynamic fork spawned: how many, how they stand, and a
        chip per child (the first MAX_CHIPS) that opens it."""
        painted = self.painting.of(fork.node)
        children = painted.children
        counts = Counter(child.status for child in children)
        worst = next((s for s in SEVERITY if counts[s]), DisplayStatus.NOT_REACHED)
        classes = f"node stack{self._status_class(worst)}{self._dimmed(fork)}"
        self.out.append(
            f'<g class="{classes}" data-ref={_attr(fork.node.ref)} data-children="{len(children)}">'
        )
        href = self.links.task(painted.task_id) if painted.task_id else None
        self.out.append(f"<a href={_attr(href)}>" if href else "<a>")
        x, y, o = box.x, box.y, STACK_OFFSET
        front_y = y + 2 * o
        for dx, dy in ((2 * o, 0), (o, o), (0, 2 * o)):
            self.out.append(
                f'<rect class="box" x="{x + dx}" y="{y + dy}" width="{CARD_W}" height="{CARD_H}"'
                ' rx="6"/>'
            )
        if self.executions:
            title = f"{len(children)} task{'' if len(children) == 1 else 's'}"
            # Icons keep it on one line; the legend and the title give their words.
            summary = " \u00b7 ".join(f"{LABELS[s][0]} {counts[s]}" for s in SEVERITY if counts[s])
            words = ", ".join(f"{counts[s]} {LABELS[s][1]}" for s in SEVERITY if counts[s])
        else:
            title, summary = "dynamic tasks", "known at run time"
            words = summary
        self.out.append(
            f"<title>{_text(title)} spawned by {_text(fork.node.ref)}: {_text(words)}</title>"
            f'<text class="name" x="{x + 10}" y="{front_y + 20}">{_text(title)}</text>'
            f'<text class="tag" x="{x + CARD_W - 10}" y="{front_y + 20}" text-anchor="end">'
            "DYN. CHILDREN</text>"
            f'<text class="state-label" x="{x + 10}" y="{front_y + 38}">'
            f"{_text(_clip(summary, 34))}</text></a>"
        )
        shown = children if len(children) <= MAX_CHIPS else children[:CHIPS_BEFORE_MORE]
        for i, child in enumerate(shown):
            chip_x, chip_y = x + 10 + i * 16, front_y + 50
            label = f"{child.name} ({base_ref(child.ref)}): {status_label(child.status)}"
            chip = (
                f'<rect class="chip status-{child.status.value}" x="{chip_x}" y="{chip_y}"'
                f' width="12" height="12" rx="2"><title>{_text(label)}</title></rect>'
            )
            if child.task_id:
                chip = f"<a href={_attr(self.links.task(child.task_id))}>{chip}</a>"
            self.out.append(chip)
        if len(shown) < len(children):
            more_x = x + 10 + len(shown) * 16
            self.out.append(
                f'<text class="more" x="{more_x}" y="{front_y + 60}">'
                f"+{len(children) - len(shown)} more</text>"
            )
        self.out.append("</g>")

    # -- containers -----------------------------------------------------------------------

    def container(self, box: Box) -> None:
        if box.kind is Kind.EXTRAS:
            count = len(self.painting.extras)
            self.out.append(
                f'<g class="extras"><rect class="container" x="{box.x}" y="{box.y}"'
                f' width="{box.w}" height="{box.h}" rx="8"/>'
                f'<text class="container-label" x="{box.x + 10}" y="{box.y + 19}">'
                f"{count} task{'' if count == 1 else 's'} not in the definition</text></g>"
            )
            return
        loop = box.element
        assert isinstance(loop, Loop)
        painted = self.painting.of(loop.node)
        classes = f"loop{self._status_class(painted.status)}{self._dimmed(loop)}"
        self.out.append(
            f'<g class="{classes}" data-ref={_attr(loop.node.ref)}'
            f' data-iterations="{painted.iteration_count}"'
            f' data-selected-iteration="{painted.selected_iteration}">'
            f'<rect class="container" x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}"'
            ' rx="8"/>'
            f'<text class="container-label" x="{box.x + 10}" y="{box.y + 19}">'
            f"{_text(self._loop_label(painted))}</text>"
        )
        self._iteration_links(box, loop, painted)
        self.out.append("</g>")

    def _loop_label(self, painted: NodePaint) -> str:
        if not self.executions:
            return "\u21bb loop"
        if not painted.iteration_count:
            return "\u21bb loop: not run"
        return f"\u21bb iteration {painted.selected_iteration} of {painted.iteration_count}"

    def _iteration_links(self, box: Box, loop: Loop, painted: NodePaint) -> None:
        """Links to the recorded iterations before and after the one shown."""
        selected = painted.selected_iteration
        before = [i for i in painted.iterations if i < selected]
        after = [i for i in painted.iterations if i > selected]
        y = box.y + 19
        for iteration, words, x in (
            (after[0] if after else None, "next \u203a", box.right - 10),
            (before[-1] if before else None, "\u2039 prev", box.right - 58),
        ):
            if iteration is None:
                continue
            href = self.links.iteration(loop.node.ref, iteration)
            self.out.append(
                f'<a class="iteration-link" href={_attr(href)}>'
                f"<title>iteration {iteration}</title>"
                f'<text x="{x}" y="{y}" text-anchor="end">{words}</text></a>'
            )
