"""Walking a definition's task tree: nested task lists, every node, and where a reference sits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conductor.engine.model import JSON


def children(workflow_task: JSON) -> Iterator[list[JSON]]:
    """Every nested task list of a node (switch cases, fork branches, loop body)."""
    cases = workflow_task.get("decisionCases")
    if isinstance(cases, dict):
        for branch in cases.values():
            if isinstance(branch, list):
                yield branch
    for key in ("defaultCase", "loopOver"):
        nested = workflow_task.get(key)
        if isinstance(nested, list):
            yield nested
    forks = workflow_task.get("forkTasks")
    if isinstance(forks, list):
        for branch in forks:
            if isinstance(branch, list):
                yield branch


def walk(tasks: list[Any]) -> Iterator[JSON]:
    """Depth-first over every WorkflowTask in a task list."""
    for task in tasks:
        if not isinstance(task, dict):
            continue
        yield task
        for nested in children(task):
            yield from walk(nested)


def find_position(
    tasks: list[JSON], ref: str, parent: JSON | None = None
) -> tuple[list[JSON], int, JSON | None] | None:
    """The sibling list holding `ref`, its index in it, and the node owning that list."""
    for i, task in enumerate(tasks):
        if task.get("taskReferenceName") == ref:
            return tasks, i, parent
        for nested in children(task):
            found = find_position(nested, ref, task)
            if found is not None:
                return found
    return None


def task_by_ref(tasks: list[JSON], ref: str) -> JSON | None:
    """The WorkflowTask with reference `ref`, wherever it is nested."""
    found = find_position(tasks, ref)
    return found[0][found[1]] if found else None
