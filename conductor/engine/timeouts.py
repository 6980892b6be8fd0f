"""Timeout checks for a pending task and for the workflow (conductor-spec §4.5, §4.2 step 2).

Each check is a pure function of the state and `now`; timers only wake the decider, which then
asks these functions whether anything is actually due, so a stale or early wake-up does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from conductor.engine.model import TaskState, TaskStatus, TimeoutPolicy, WorkflowState
from conductor.engine.task_types import is_worker_task


@dataclass(frozen=True)
class TaskTimeout:
    policy: TimeoutPolicy
    reason: str


def total_timeout_at(task: TaskState) -> int | None:
    """When the task's totalTimeoutSeconds (over all its attempts) runs out, if it has one."""
    total = task.settings.total_timeout_seconds
    if total > 0 and task.first_scheduled_time > 0:
        return task.first_scheduled_time + total * 1000
    return None


def task_timeout_at(task: TaskState) -> int | None:
    """When the started attempt's timeoutSeconds runs out, if it has one and has started."""
    s = task.settings
    if s.timeout_seconds > 0 and task.start_time > 0:
        return task.start_time + (task.start_delay_seconds + s.timeout_seconds) * 1000
    return None


def check_task(task: TaskState, now: int) -> TaskTimeout | None:
    """The first timeout that has expired for a non-terminal task, in Conductor's order."""
    s = task.settings
    delay_ms = task.start_delay_seconds * 1000
    total_at = total_timeout_at(task)
    if total_at is not None and now >= total_at:
        return TaskTimeout(
            s.timeout_policy,
            f"Task {task.ref_name} exceeded its total timeout of "
            f"{s.total_timeout_seconds} seconds across all attempts",
        )
    task_at = task_timeout_at(task)
    if task_at is not None and now >= task_at:
        elapsed = now - (task.start_time + delay_ms)
        return TaskTimeout(
            s.timeout_policy,
            f"Task timed out after {elapsed // 1000} seconds. Timeout configured as "
            f"{s.timeout_seconds} seconds. "
            f"Timeout policy configured to {s.timeout_policy.value}",
        )
    if task.status is TaskStatus.SCHEDULED and s.poll_timeout_seconds > 0:
        elapsed = now - (task.scheduled_time + delay_ms)
        if elapsed >= (s.poll_timeout_seconds + task.callback_after_seconds) * 1000:
            return TaskTimeout(
                s.timeout_policy,
                f"Task poll timed out after {elapsed // 1000} seconds. Poll timeout configured as "
                f"{s.poll_timeout_seconds} seconds. Timeout policy configured to "
                f"{s.timeout_policy.value}",
            )
    if response_timed_out(task, now):
        # A lease expiry is always retried when retries remain; the policy is not consulted.
        return TaskTimeout(
            TimeoutPolicy.RETRY,
            f"responseTimeout: {s.response_timeout_seconds} exceeded for the taskId: "
            f"{task.task_id} with Task Definition: {task.task_def_name}",
        )
    return None


def response_timed_out(task: TaskState, now: int) -> bool:
    rt = task.settings.response_timeout_seconds
    if task.status is not TaskStatus.IN_PROGRESS or rt <= 0:
        return False
    if not is_worker_task(task.workflow_task):
        return False
    return now - task.update_time >= (rt + task.callback_after_seconds) * 1000


def workflow_deadline(state: WorkflowState) -> int | None:
    """When the workflow times out (epoch ms), or None without a workflow timeout."""
    seconds = int(state.definition.get("timeoutSeconds") or 0)
    if seconds <= 0:
        return None
    base = state.last_retried_time or state.create_time
    return base + seconds * 1000


def workflow_timeout_reason(state: WorkflowState, now: int) -> str | None:
    """A reason when the workflow has timed out under TIME_OUT_WF; None otherwise."""
    deadline = workflow_deadline(state)
    if deadline is None or now < deadline:
        return None
    if (state.definition.get("timeoutPolicy") or "ALERT_ONLY") != "TIME_OUT_WF":
        return None
    seconds = int(state.definition.get("timeoutSeconds") or 0)
    elapsed = (now - (state.last_retried_time or state.create_time)) // 1000
    return (
        f"Workflow timed out after {elapsed} seconds. Timeout configured as {seconds} seconds. "
        "Timeout policy configured to TIME_OUT_WF"
    )
