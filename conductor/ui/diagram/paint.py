"""An execution laid over a definition's blocks: what each shape shows and which way control went.

Tasks are matched by reference name. Inside a DO_WHILE a task of iteration N is `ref__N`, so a
loop's body shows one iteration (the last unless another is asked for). Retries share their
reference: a node shows the latest attempt and lists them all. A switch's untaken branches are
dimmed. A dynamic fork's children, and any task the definition does not hold, are kept: the first
inside the fork's stacked card, the rest as extra cards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from conductor.engine.model import TaskStatus, TaskType, WorkflowStatus, base_ref, loop_ref
from conductor.engine.task_types import Shape, spec_of
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
    exit_element,
    task_nodes,
)
from conductor.ui.diagram.runs import Execution, Run


class DisplayStatus(StrEnum):
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed-with-errors"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    IN_PROGRESS = "in-progress"
    SCHEDULED = "scheduled"
    NOT_REACHED = "not-reached"
    UNKNOWN = "unknown"  # a status the execution JSON names and this server lacks


STATUS_OF: dict[TaskStatus, DisplayStatus] = {
    TaskStatus.SCHEDULED: DisplayStatus.SCHEDULED,
    TaskStatus.IN_PROGRESS: DisplayStatus.IN_PROGRESS,
    TaskStatus.COMPLETED: DisplayStatus.COMPLETED,
    TaskStatus.COMPLETED_WITH_ERRORS: DisplayStatus.COMPLETED_WITH_ERRORS,
    TaskStatus.SKIPPED: DisplayStatus.SKIPPED,
    TaskStatus.FAILED: DisplayStatus.FAILED,
    TaskStatus.FAILED_WITH_TERMINAL_ERROR: DisplayStatus.FAILED,
    TaskStatus.TIMED_OUT: DisplayStatus.TIMED_OUT,
    TaskStatus.CANCELED: DisplayStatus.CANCELLED,
}

# Statuses after which the flow moves on to what follows.
_PASSED = frozenset(
    {DisplayStatus.COMPLETED, DisplayStatus.COMPLETED_WITH_ERRORS, DisplayStatus.SKIPPED}
)


@dataclass(frozen=True)
class Child:
    """One task a dynamic fork spawned."""

    ref: str
    name: str
    task_id: str | None
    status: DisplayStatus
    attempts: int


@dataclass
class NodePaint:
    status: DisplayStatus = DisplayStatus.NOT_REACHED
    task_id: str | None = None  # the latest attempt: the task to open
    attempts: tuple[str, ...] = ()  # every attempt's task id, oldest first
    name: str | None = None  # what a DYNAMIC task became
    reason: str | None = None
    child_workflow_id: str | None = None  # SUB_WORKFLOW
    case: str | None = None  # SWITCH / DECISION: the evaluated case
    iteration_count: int = 0  # DO_WHILE: iterations begun
    iterations: tuple[int, ...] = ()  # DO_WHILE: iterations whose tasks are still recorded
    selected_iteration: int = 0  # DO_WHILE: the one its body shows
    children: tuple[Child, ...] = ()  # FORK_JOIN_DYNAMIC


_UNPAINTED = NodePaint()


@dataclass
class Painting:
    """What an execution adds to the blocks. `workflow_status` is None for a bare definition."""

    workflow_status: str | None = None
    nodes: dict[TaskNode, NodePaint] = field(default_factory=dict)
    taken: dict[Switch, Branch] = field(default_factory=dict)
    dimmed: set[Element] = field(default_factory=set)
    extras: list[TaskNode] = field(default_factory=list)  # tasks not in the definition

    def of(self, node: TaskNode) -> NodePaint:
        return self.nodes.get(node, _UNPAINTED)


def paint(
    root: Sequence, execution: Execution, iterations: Mapping[str, int] | None = None
) -> Painting:
    """Paint every node of `root` from the execution. `iterations` picks, by a DO_WHILE's
    reference name, the iteration its body shows."""
    painter = _Painter(execution, dict(iterations or {}))
    painter.block(root, 0, False)
    painter.add_extras(root)
    return painter.painting


class _Painter:
    def __init__(self, execution: Execution, iterations: dict[str, int]) -> None:
        self.painting = Painting(execution.status)
        self.picked = iterations
        runs = sorted(execution.runs, key=lambda r: r.seq)  # stable: JSON without seq keeps order
        self.by_ref: dict[str, list[Run]] = {}
        self.by_base: dict[str, list[Run]] = {}
        for run in runs:
            self.by_ref.setdefault(run.ref, []).append(run)
            self.by_base.setdefault(base_ref(run.ref), []).append(run)

    def block(self, block: Block, iteration: int, dimmed: bool) -> None:
        if isinstance(block, Sequence):
            for item in block.items:
                self.block(item, iteration, dimmed)
        elif isinstance(block, TaskNode):
            self.task(block, iteration, dimmed)
        elif isinstance(block, Fork):
            self.task(block.node, iteration, dimmed)
            for lane in block.lanes:
                self.block(lane, iteration, dimmed)
            self._join(block.join, iteration, dimmed)
            self._dim(block, dimmed)
        elif isinstance(block, Switch):
            self.switch(block, iteration, dimmed)
        elif isinstance(block, Loop):
            self.loop(block, iteration, dimmed)
        elif isinstance(block, DynamicFork):
            self.dynamic_fork(block, iteration, dimmed)

    def task(self, node: TaskNode, iteration: int, dimmed: bool) -> NodePaint:
        runs = self.by_ref.get(loop_ref(node.ref, iteration), [])
        painted = paint_of(runs, node)
        self.painting.nodes[node] = painted
        self._dim(node, dimmed)
        return painted

    def _join(self, join: TaskNode | None, iteration: int, dimmed: bool) -> None:
        if join is not None:
            self.task(join, iteration, dimmed)

    def _dim(self, element: Element, dimmed: bool) -> None:
        if dimmed:
            self.painting.dimmed.add(element)

    def switch(self, switch: Switch, iteration: int, dimmed: bool) -> None:
        painted = self.task(switch.node, iteration, dimmed)
        runs = self.by_ref.get(loop_ref(switch.node.ref, iteration))
        painted.case = case_of(runs[-1]) if runs else None
        taken = None if painted.case is None else taken_branch(switch, painted.case)
        if taken is not None:
            self.painting.taken[switch] = taken
        for branch in switch.branches:
            untaken = taken is not None and branch is not taken
            self.block(branch.body, iteration, dimmed or untaken)
        self._dim(switch, dimmed)

    def loop(self, loop: Loop, iteration: int, dimmed: bool) -> None:
        painted = self.task(loop.node, iteration, dimmed)
        runs = self.by_ref.get(loop_ref(loop.node.ref, iteration))
        found: set[int] = set()
        for node in task_nodes(loop.body):
            found.update(_iteration_of(run) for run in self.by_base.get(node.ref, ()))
        found.discard(0)
        count = max(found, default=0)
        if runs:
            begun = runs[-1].iteration or runs[-1].output.get("iteration")
            if isinstance(begun, int) and not isinstance(begun, bool):
                count = max(count, begun)
        wanted = self.picked.get(loop.node.ref)
        selected = wanted if isinstance(wanted, int) and 0 < wanted <= count else count
        painted.iteration_count = count
        painted.iterations = tuple(sorted(found))
        painted.selected_iteration = selected
        self.block(loop.body, max(selected, 1), dimmed)
        self._dim(loop, dimmed)

    def dynamic_fork(self, fork: DynamicFork, iteration: int, dimmed: bool) -> None:
        self.task(fork.node, iteration, dimmed)
        fork_runs = self.by_ref.get(loop_ref(fork.node.ref, iteration))
        refs = _refs(fork_runs[-1].input.get("forkedTasks")) if fork_runs else []
        if not refs and fork.join is not None:
            join_runs = self.by_ref.get(loop_ref(fork.join.ref, iteration))
            refs = _refs(join_runs[-1].input.get("joinOn")) if join_runs else []
        children = []
        for ref in refs:
            child = paint_of(self.by_ref.get(ref, []), None)
            name = child.name or base_ref(ref)
            count = len(child.attempts)
            children.append(Child(ref, name, child.task_id, child.status, count))
        self.painting.nodes[fork.node].children = tuple(children)
        self._join(fork.join, iteration, dimmed)
        self._dim(fork, dimmed)

    def add_extras(self, root: Sequence) -> None:
        """Tasks neither in the definition nor spawned by a dynamic fork (a definition changed
        after the run began, say): kept, so no task of the run is missing from the picture."""
        known = {node.ref for node in task_nodes(root)}
        spawned: set[str] = set()
        for runs in self.by_ref.values():
            for run in runs:
                spawned.update(_refs(run.input.get("forkedTasks")))
                spawned.update(_refs(run.input.get("joinOn")))
        for ref, runs in self.by_ref.items():
            if ref in known or base_ref(ref) in known or ref in spawned:
                continue
            latest = runs[-1]
            shape = spec_of({"type": latest.task_type}).shape
            node = TaskNode(ref, latest.name, latest.task_type, shape)
            self.painting.nodes[node] = paint_of(runs, node)
            self.painting.extras.append(node)


def paint_of(runs: list[Run], node: TaskNode | None) -> NodePaint:
    """A node's paint from its attempts (oldest first)."""
    if not runs:
        return NodePaint()
    latest = runs[-1]
    status = STATUS_OF.get(latest.status) if latest.status else None
    renamed = node is None or node.type == TaskType.DYNAMIC  # system tasks carry their type
    return NodePaint(
        status=status or DisplayStatus.UNKNOWN,
        task_id=latest.task_id or None,
        attempts=tuple(r.task_id for r in runs),
        name=latest.name if renamed and latest.name else None,
        reason=latest.reason,
        child_workflow_id=latest.sub_workflow_id,
    )


def case_of(run: Run) -> str | None:
    """The case a SWITCH or DECISION evaluated: the engine notes it in the input as `case`;
    Conductor's outputs carry it as `selectedCase`, `evaluationResult` or `caseOutput`."""
    case = run.input.get("case")
    if case is None:
        case = run.output.get("selectedCase")
    for key in ("evaluationResult", "caseOutput"):
        listed = run.output.get(key)
        if case is None and isinstance(listed, list) and listed:
            case = listed[0]
    return None if case is None else str(case)


def taken_branch(switch: Switch, case: str) -> Branch:
    """The branch a case selects, as the engine chooses it (task_starts.selected_branch): a
    DECISION falls back to the default when the case's branch is empty, a SWITCH only when the
    case is not listed."""
    default = switch.branches[-1]
    for branch in switch.branches[:-1]:
        if branch.key == case:
            empty = not branch.body.items
            return default if empty and switch.node.type == TaskType.DECISION else branch
    return default


def reached(painting: Painting, element: Element) -> bool:
    """Whether control got to the shape."""
    if painting.workflow_status is None:
        return False
    if isinstance(element, TaskNode):
        return painting.of(element).status is not DisplayStatus.NOT_REACHED
    if isinstance(element, Terminal):
        return element.kind == "start" or painting.workflow_status == WorkflowStatus.COMPLETED
    if isinstance(element, Loop):
        return reached(painting, element.node)
    if isinstance(element, DynamicFork):
        return passed(painting, element.node)
    if isinstance(element, Switch):  # its merge point
        taken = painting.taken.get(element)
        if taken is None:
            return False
        last = exit_element(taken.body)
        return passed(painting, element.node if last is None else last)
    # the merge point of a fork without a JOIN
    exits = [exit_element(lane) for lane in element.lanes]
    return passed(painting, element.node) and all(
        passed(painting, e) for e in exits if e is not None
    )


def passed(painting: Painting, element: Element) -> bool:
    """Whether control went on past the shape."""
    if isinstance(element, TaskNode):
        status = painting.of(element).status
        if element.shape is Shape.LOOP:  # a loop's own card heads its body
            return status is not DisplayStatus.NOT_REACHED
        # Nothing after a TERMINATE runs, whatever its status.
        return status in _PASSED and element.shape is not Shape.TERMINATE
    if isinstance(element, Terminal):
        return reached(painting, element)
    if isinstance(element, Loop):
        return painting.of(element.node).status in _PASSED
    if isinstance(element, DynamicFork):
        children = painting.of(element.node).children
        return reached(painting, element) and all(c.status in _PASSED for c in children)
    return reached(painting, element)


def _iteration_of(run: Run) -> int:
    if run.iteration:
        return run.iteration
    _head, sep, tail = run.ref.rpartition("__")
    return int(tail) if sep and tail.isdigit() else 0


def _refs(value: object) -> list[str]:
    return [str(r) for r in value if isinstance(r, str)] if isinstance(value, list) else []
