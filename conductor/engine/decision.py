"""What one decider pass wants written: task rows, queue pushes, timers, log lines.

The executor applies a `Decision` in the same transaction that loaded the state, so a crash can
never leave a workflow waiting on a task or timer that was not written (Temporal's outbox rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from conductor.engine.model import TaskState


class TimerKind(StrEnum):
    """What a durable timer is for; timers/routes.py says how each kind fires."""

    WORKFLOW_TIMEOUT = "WORKFLOW_TIMEOUT"
    RESPONSE_TIMEOUT = "RESPONSE_TIMEOUT"
    TASK_TIMEOUT = "TASK_TIMEOUT"
    POLL_TIMEOUT = "POLL_TIMEOUT"
    TOTAL_TIMEOUT = "TOTAL_TIMEOUT"
    # A delayed queue row (retry back-off, callbackAfterSeconds, startDelay) became pollable:
    # wakes long-pollers, needs no workflow transition.
    QUEUE_VISIBLE = "QUEUE_VISIBLE"
    # A system task the server runs outside the decider (a script): due at once, durable, so a
    # crash before it ran only delays it.
    SYSTEM_TASK = "SYSTEM_TASK"
    # A WAIT task's due time.
    WAIT = "WAIT"
    # A child workflow ended: report it to the parent's SUB_WORKFLOW task (payload: child id).
    SUBWORKFLOW_DONE = "SUBWORKFLOW_DONE"
    # A finished child runs again: revive the parent's SUB_WORKFLOW task (and a finished parent)
    # (payload: JSON with the child's id and the operation).
    SUBWORKFLOW_REOPENED = "SUBWORKFLOW_REOPENED"
    # A parent ended while its child ran: terminate the child (payload: the reason).
    TERMINATE_WORKFLOW = "TERMINATE_WORKFLOW"
    # A workflow failed: start its failureWorkflow (payload: JSON with the new run's id, name,
    # reason, status and failed task), durably and once.
    FAILURE_WORKFLOW = "FAILURE_WORKFLOW"
    # A run with workflowStatusListenerEnabled ended: POST its summary to the webhook sink
    # (payload: JSON with the URL and the attempt number), retried with back-off.
    STATUS_LISTENER = "STATUS_LISTENER"


@dataclass(frozen=True)
class DecideContext:
    """Everything impure the decider needs, passed in: the time, id and jitter sources."""

    now: int
    new_id: Callable[[], str]
    jitter_ms: Callable[[int], int] = lambda _bound: 0
    # Queues with a recent poller, for choosing among taskToDomain's domains (filled by the
    # executor only for workflows that map domains).
    active_queues: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QueuePush:
    task_id: str
    queue_name: str
    priority: int
    visible_at: int


@dataclass(frozen=True)
class TimerIntent:
    kind: TimerKind
    workflow_id: str
    task_id: str | None
    fire_at: int
    payload: str | None = None

    @property
    def key(self) -> str:
        return timer_key(self.kind, self.task_id or self.workflow_id)


def timer_key(kind: TimerKind, owner_id: str) -> str:
    """One live timer per (kind, task or workflow): re-arming replaces it."""
    return f"{kind.value}:{owner_id}"


# Timers that guard a deadline: dropped when the work is done in time, so they rarely fire.
DEADLINE_KINDS = (
    TimerKind.WORKFLOW_TIMEOUT,
    TimerKind.RESPONSE_TIMEOUT,
    TimerKind.TASK_TIMEOUT,
    TimerKind.POLL_TIMEOUT,
    TimerKind.TOTAL_TIMEOUT,
)
TASK_TIMER_KINDS = (
    TimerKind.RESPONSE_TIMEOUT,
    TimerKind.TASK_TIMEOUT,
    TimerKind.POLL_TIMEOUT,
    TimerKind.TOTAL_TIMEOUT,
    TimerKind.QUEUE_VISIBLE,
    TimerKind.SYSTEM_TASK,
    TimerKind.SUBWORKFLOW_DONE,
    TimerKind.SUBWORKFLOW_REOPENED,
    TimerKind.WAIT,
)


_TASK_TIMER_PREFIXES = tuple(f"{kind.value}:" for kind in TASK_TIMER_KINDS)


def task_timer_keys(task_id: str) -> list[str]:
    """Every key a timer of this task can have: clearing by key needs no index but the primary."""
    return [prefix + task_id for prefix in _TASK_TIMER_PREFIXES]


def timer_owner(key: str) -> str:
    return key.partition(":")[2]


@dataclass(frozen=True)
class TaskLog:
    task_id: str
    log: str
    created_time: int


@dataclass(frozen=True)
class EventMessage:
    """A message an EVENT task publishes to the built-in `conductor` queue."""

    queue: str
    message_id: str
    payload: dict[str, object]
    created_time: int


@dataclass
class Decision:
    new_tasks: list[TaskState] = field(default_factory=list)
    changed_tasks: dict[str, TaskState] = field(default_factory=dict)
    workflow_changed: bool = False
    pushes: list[QueuePush] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)  # tasks leaving their queue
    timers: list[TimerIntent] = field(default_factory=list)
    cleared_timer_keys: list[str] = field(default_factory=list)
    logs: list[TaskLog] = field(default_factory=list)
    deleted_tasks: list[str] = field(default_factory=list)  # DO_WHILE keepLastN pruning
    events: list[EventMessage] = field(default_factory=list)
    ignored: bool = False
    finished: bool = False
    # Tasks that reached a terminal status in this decision (for metrics; decide() fills it).
    finished_tasks: list[TaskState] = field(default_factory=list)
    # Restart, retry or rerun: columns that otherwise never change (create time, correlation id,
    # and with the latest definition the definition and version) are written too.
    reopened: bool = False
    definition_changed: bool = False

    def arm(
        self,
        kind: TimerKind,
        workflow_id: str,
        task_id: str | None,
        fire_at: int,
        payload: str | None = None,
    ) -> None:
        """Write a timer; it replaces the live timer of its kind and owner."""
        self.timers.append(TimerIntent(kind, workflow_id, task_id, fire_at, payload))

    def log(self, task_id: str, line: str, created_time: int) -> None:
        self.logs.append(TaskLog(task_id, line, created_time))

    def touch(self, task: TaskState) -> None:
        if all(t is not task for t in self.new_tasks):
            self.changed_tasks[task.task_id] = task
