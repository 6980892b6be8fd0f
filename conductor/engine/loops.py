"""DO_WHILE bookkeeping (conductor-spec §5.9): which tasks belong to an iteration, whether it has
ended, its output, what the loop condition sees, and which old iterations keepLastN drops."""

from __future__ import annotations

from typing import Any

from conductor.engine.model import JSON, TaskState, WorkflowState, base_ref
from conductor.engine.task_tree import walk


def body_refs(loop_task: TaskState) -> set[str]:
    body = loop_task.workflow_task.get("loopOver") or []
    return {str(t.get("taskReferenceName")) for t in walk(body)}


def iteration_tasks(state: WorkflowState, loop_task: TaskState, iteration: int) -> list[TaskState]:
    refs = body_refs(loop_task)
    return [t for t in state.tasks if t.iteration == iteration and base_ref(t.ref_name) in refs]


def iteration_ended(tasks: list[TaskState]) -> bool:
    """Every task of the iteration ended and was processed, so nothing more will be scheduled."""
    return bool(tasks) and all(t.status.terminal and t.executed for t in tasks)


def latest_attempts(tasks: list[TaskState]) -> dict[str, TaskState]:
    latest: dict[str, TaskState] = {}
    for task in tasks:  # in schedule order: retries overwrite their failed attempts
        latest[base_ref(task.ref_name)] = task
    return latest


def iteration_output(tasks: list[TaskState]) -> JSON:
    return {ref: t.output_data for ref, t in latest_attempts(tasks).items()}


def failures(tasks: list[TaskState]) -> list[TaskState]:
    return [t for t in latest_attempts(tasks).values() if not t.status.successful]


def condition_bindings(state: WorkflowState, loop_task: TaskState) -> JSON:
    """`$` for the loopCondition: the loop's input, its output under its ref, each child's
    latest output under the child's ref."""
    bindings: dict[str, Any] = dict(loop_task.input_data)
    bindings[base_ref(loop_task.ref_name)] = loop_task.output_data
    refs = body_refs(loop_task)
    for task in state.tasks:
        ref = base_ref(task.ref_name)
        if ref in refs:
            bindings[ref] = task.output_data
    return bindings


def prunable(
    state: WorkflowState, loop_task: TaskState, keep_last_n: int, latest: int
) -> list[TaskState]:
    """Tasks of iterations older than the last `keep_last_n` finished ones up to `latest`."""
    oldest_kept = latest - keep_last_n + 1
    refs = body_refs(loop_task)
    return [
        t for t in state.tasks if 0 < t.iteration < oldest_kept and base_ref(t.ref_name) in refs
    ]


def keep_last_n(loop_task: TaskState) -> int:
    value = loop_task.input_data.get("keepLastN")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
