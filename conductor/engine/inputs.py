"""Inputs to the decider: every change to a workflow arrives as one of these (results, timers,
operator actions). Not to be confused with Conductor's events (event handlers, EVENT tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conductor.engine.decision import TimerKind
from conductor.engine.model import TaskStatus


@dataclass(frozen=True)
class StartWorkflow:
    pass


@dataclass(frozen=True)
class TaskResultReceived:
    task_id: str
    status: TaskStatus
    output: dict[str, Any] | None = None
    reason: str | None = None
    callback_after_seconds: int = 0
    worker_id: str | None = None
    extend_lease: bool = False
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimerFired:
    kind: TimerKind
    task_id: str | None


@dataclass(frozen=True)
class LoopConditionEvaluated:
    """A DO_WHILE's loopCondition, evaluated outside the decider for one iteration."""

    task_id: str
    iteration: int
    proceed: bool
    error: str | None = None


@dataclass(frozen=True)
class ChildReopened:
    """A child workflow runs again (retried, restarted or rerun): the parent's SUB_WORKFLOW task
    `task_id` waits for it again, and a finished parent runs again."""

    task_id: str
    child_id: str
    operation: str  # "retried", "restarted" or "reran", for the task's log


@dataclass(frozen=True)
class TerminateWorkflow:
    reason: str | None = None
    trigger_failure_workflow: bool = False


@dataclass(frozen=True)
class Reevaluate:
    pass


# Operator actions (engine/operations.py).


@dataclass(frozen=True)
class PauseWorkflow:
    pass


@dataclass(frozen=True)
class ResumeWorkflow:
    pass


@dataclass(frozen=True)
class SkipTask:
    ref_name: str
    task_input: dict[str, Any] | None = None
    task_output: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResetCallbacks:
    pass


@dataclass(frozen=True)
class RestartWorkflow:
    # The latest definition (with task definitions filled in) when `useLatestDefinitions`.
    definition: dict[str, Any] | None = None


@dataclass(frozen=True)
class RetryWorkflow:
    pass


@dataclass(frozen=True)
class UpdateVariables:
    """Set workflow variables (the event handler action `update_workflow_variables`); with
    `append_array`, a list value is appended to an existing list instead of replacing it."""

    variables: dict[str, Any]
    append_array: bool = False


@dataclass(frozen=True)
class RerunWorkflow:
    from_task_id: str | None = None
    task_input: dict[str, Any] | None = None
    workflow_input: dict[str, Any] | None = None
    correlation_id: str | None = None


Input = (
    StartWorkflow
    | TaskResultReceived
    | TimerFired
    | TerminateWorkflow
    | Reevaluate
    | LoopConditionEvaluated
    | PauseWorkflow
    | ResumeWorkflow
    | SkipTask
    | ResetCallbacks
    | RestartWorkflow
    | RetryWorkflow
    | RerunWorkflow
    | UpdateVariables
    | ChildReopened
)
