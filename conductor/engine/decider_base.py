"""What the decider's parts share: the workflow state, context and decision of one decider pass,
and the decider's own steps that flow control (flow_control.py) and operator actions
(operations.py) call back into. engine/decider.py implements the steps."""

from __future__ import annotations

from conductor.engine.decision import DecideContext, Decision
from conductor.engine.model import JSON, TaskState, TaskStatus, WorkflowState, WorkflowStatus


class DeciderBase:
    state: WorkflowState
    ctx: DecideContext
    decision: Decision

    def evaluate(self) -> None:
        """Move the workflow on as far as it can go now."""
        raise NotImplementedError

    def _schedule(self, workflow_task: JSON, iteration: int = 0) -> None:
        raise NotImplementedError

    def _start_system_task(self, task: TaskState, delay_ms: int = 0) -> None:
        raise NotImplementedError

    def _finish_task(self, task: TaskState, status: TaskStatus) -> None:
        raise NotImplementedError

    def _end_workflow(self, status: WorkflowStatus, reason: str | None) -> None:
        raise NotImplementedError

    def _arm_workflow_timeout(self) -> None:
        raise NotImplementedError
