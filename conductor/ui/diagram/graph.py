"""A workflow definition's task list as a tree of blocks, the shape a diagram draws.

Conductor's task graph is series-parallel, so a tree is enough: a sequence of blocks, where a
fork holds lanes that meet at its JOIN, a switch holds branches that meet again, a loop holds its
body. Each type's shape comes from the task-type table (`Shape`), not from a list kept here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conductor.engine.model import JSON, task_type_of
from conductor.engine.task_types import Shape, spec_of


# eq=False everywhere: blocks are told apart by identity (two equal-looking nodes are distinct).
@dataclass(eq=False)
class TaskNode:
    """One WorkflowTask drawn as a card (a diamond for a switch's own node)."""

    ref: str
    name: str
    type: str
    shape: Shape


@dataclass(eq=False)
class Terminal:
    """The Start or End circle."""

    kind: str  # "start" | "end"


@dataclass(eq=False)
class Sequence:
    items: list[Block] = field(default_factory=list)


@dataclass(eq=False)
class Fork:
    """FORK_JOIN: lanes side by side that meet at the JOIN after it (None: no JOIN follows)."""

    node: TaskNode
    lanes: list[Sequence]
    join: TaskNode | None


@dataclass(eq=False)
class Branch:
    key: str  # the case value ("defaultCase" for the default, which a case may also be named)
    body: Sequence
    default: bool = False


@dataclass(eq=False)
class Switch:
    """SWITCH / DECISION: its cases in definition order, then the default case."""

    node: TaskNode
    branches: list[Branch]


@dataclass(eq=False)
class Loop:
    """DO_WHILE: its own node and the `loopOver` body run once per iteration."""

    node: TaskNode
    body: Sequence


@dataclass(eq=False)
class DynamicFork:
    """FORK_JOIN_DYNAMIC: the children exist only at run time, so one card stands for them."""

    node: TaskNode
    join: TaskNode | None


# A SUB_WORKFLOW is a TaskNode whose shape is SUB_WORKFLOW: it is drawn as a card with a link.
Block = TaskNode | Terminal | Sequence | Fork | Switch | Loop | DynamicFork

# What a diagram draws as one shape: a card, a circle, a loop's box, a dynamic fork's stacked
# card, or the point where a switch's branches (or the lanes of a fork without JOIN) meet.
Element = TaskNode | Terminal | Loop | DynamicFork | Switch | Fork


def diagram(tasks: Any) -> Sequence:
    """Start, the definition's tasks, End. Anything malformed is left out, never an error."""
    return Sequence([Terminal("start"), *sequence(tasks).items, Terminal("end")])


def sequence(tasks: Any) -> Sequence:
    """A task list as blocks; a JOIN right after a fork is taken into the fork's block."""
    nodes = [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []
    items: list[Block] = []
    i = 0
    while i < len(nodes):
        workflow_task = nodes[i]
        shape = spec_of(workflow_task).shape
        join = None
        forks = shape in (Shape.FORK, Shape.DYNAMIC_FORK)
        if forks and i + 1 < len(nodes) and spec_of(nodes[i + 1]).shape is Shape.JOIN:
            join = task_node(nodes[i + 1])
            i += 1
        items.append(_block(workflow_task, shape, join))
        i += 1
    return Sequence(items)


def _block(workflow_task: JSON, shape: Shape, join: TaskNode | None) -> Block:
    node = task_node(workflow_task)
    if shape is Shape.FORK:
        lanes = workflow_task.get("forkTasks")
        return Fork(node, [sequence(lane) for lane in lanes or [] if isinstance(lane, list)], join)
    if shape is Shape.DYNAMIC_FORK:
        return DynamicFork(node, join)
    if shape is Shape.BRANCH:
        cases = workflow_task.get("decisionCases")
        branches = [
            Branch(str(key), sequence(body))
            for key, body in (cases.items() if isinstance(cases, dict) else ())
        ]
        branches.append(Branch("defaultCase", sequence(workflow_task.get("defaultCase")), True))
        return Switch(node, branches)
    if shape is Shape.LOOP:
        return Loop(node, sequence(workflow_task.get("loopOver")))
    return node


def task_node(workflow_task: JSON) -> TaskNode:
    return TaskNode(
        ref=_text(workflow_task.get("taskReferenceName")),
        name=_text(workflow_task.get("name")),
        type=task_type_of(workflow_task),
        shape=spec_of(workflow_task).shape,
    )


def exit_element(block: Block) -> Element | None:
    """The shape control leaves a block from (None for an empty sequence)."""
    if isinstance(block, Sequence):
        return exit_element(block.items[-1]) if block.items else None
    if isinstance(block, Fork | DynamicFork) and block.join is not None:
        return block.join
    return block


def task_nodes(block: Block) -> list[TaskNode]:
    """Every TaskNode in a block, depth first."""
    found: list[TaskNode] = []
    _collect(block, found)
    return found


def _collect(block: Block, found: list[TaskNode]) -> None:
    if isinstance(block, TaskNode):
        found.append(block)
    elif isinstance(block, Sequence):
        for item in block.items:
            _collect(item, found)
    elif isinstance(block, Fork):
        found.append(block.node)
        for lane in block.lanes:
            _collect(lane, found)
        if block.join is not None:
            found.append(block.join)
    elif isinstance(block, Switch):
        found.append(block.node)
        for branch in block.branches:
            _collect(branch.body, found)
    elif isinstance(block, Loop):
        found.append(block.node)
        _collect(block.body, found)
    elif isinstance(block, DynamicFork):
        found.append(block.node)
        if block.join is not None:
            found.append(block.join)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
