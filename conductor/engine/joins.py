"""JOIN and EXCLUSIVE_JOIN: whether the branches a join waits on let it finish, and how."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conductor.engine.model import JSON, TaskState, TaskStatus


@dataclass(frozen=True)
class JoinOutcome:
    status: TaskStatus
    output: JSON
    reason: str | None = None


# A join's rule: its outcome given the latest attempt of each reference, or None to keep waiting.
JoinRule = Callable[[TaskState, dict[str, TaskState]], JoinOutcome | None]


def join_outcome(join: TaskState, tasks_by_ref: dict[str, TaskState]) -> JoinOutcome | None:
    """Evaluate a JOIN (conductor-spec §5.7); None while it must keep waiting."""
    refs = [str(r) for r in join.input_data.get("joinOn") or []]
    output: JSON = {}
    joined = [tasks_by_ref[r] for r in refs if r in tasks_by_ref]
    for task in joined:
        if task.output_data:
            output[task.ref_name] = task.output_data
    all_terminal = len(joined) == len(refs) and all(t.status.terminal for t in joined)
    failed = [
        t
        for t in joined
        if t.status.terminal and not t.status.successful and not t.optional and not t.retried
    ]
    blocking = [t for t in failed if not t.workflow_task.get("permissive") or all_terminal]
    if blocking:
        canceled = all(t.status is TaskStatus.CANCELED for t in blocking)
        reason = " ".join(t.reason_for_incompletion or "" for t in blocking).strip()
        return JoinOutcome(
            TaskStatus.CANCELED if canceled else TaskStatus.FAILED, output, reason or None
        )
    if not all_terminal:
        return None
    with_errors = [t for t in joined if t.status is TaskStatus.COMPLETED_WITH_ERRORS]
    if with_errors:
        reason = " ".join(
            f"{t.task_def_name}/{t.task_id} completed with errors" for t in with_errors
        )
        return JoinOutcome(TaskStatus.COMPLETED_WITH_ERRORS, output, reason)
    return JoinOutcome(TaskStatus.COMPLETED, output)


def exclusive_join_outcome(
    join: TaskState, tasks_by_ref: dict[str, TaskState]
) -> JoinOutcome | None:
    """EXCLUSIVE_JOIN (conductor-spec §5.8b): the first joined task that ran decides."""
    for key in ("joinOn", "defaultExclusiveJoinTask"):
        refs = [str(r) for r in join.input_data.get(key) or []]
        for ref in refs:
            task = tasks_by_ref.get(ref)
            if task is None or task.status is TaskStatus.SKIPPED:
                continue
            if not task.status.terminal or task.retried:
                return None
            if task.status.successful:
                return JoinOutcome(TaskStatus.COMPLETED, dict(task.output_data))
            return JoinOutcome(TaskStatus.FAILED, {}, task.reason_for_incompletion)
    return None
