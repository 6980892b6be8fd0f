"""Builders for pure decider tests: a workflow state, a counter id source, events."""

from __future__ import annotations

import itertools
from typing import Any

from conductor.engine.decider import decide
from conductor.engine.decision import DecideContext, Decision
from conductor.engine.definitions import populate_task_definitions
from conductor.engine.inputs import Input, StartWorkflow, TaskResultReceived
from conductor.engine.model import TaskState, TaskStatus, WorkflowState, WorkflowStatus

T0 = 1_700_000_000_000


def simple(ref: str, name: str = "work", **extra: Any) -> dict[str, Any]:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE", **extra}


class Run:
    """A workflow driven through the pure decider with a hand-moved clock."""

    def __init__(
        self,
        tasks: list[dict[str, Any]],
        task_defs: dict[str, dict[str, Any]] | None = None,
        **definition: Any,
    ) -> None:
        raw = {"name": "wf", "version": 1, "tasks": tasks, **definition}
        self.now = T0
        self._ids = itertools.count(1)
        self.state = WorkflowState(
            workflow_id="wf-1",
            definition=populate_task_definitions(raw, task_defs or {}),
            status=WorkflowStatus.RUNNING,
            create_time=T0,
            input={"x": 1},
        )
        self.decisions: list[Decision] = []

    def ctx(self) -> DecideContext:
        return DecideContext(now=self.now, new_id=lambda: f"t{next(self._ids)}")

    def send(self, event: Input) -> Decision:
        decision = decide(self.state, event, self.ctx())
        self.decisions.append(decision)
        return decision

    def start(self) -> Decision:
        return self.send(StartWorkflow())

    def claim(self, task: TaskState) -> None:
        """What the queue's claim statement does to a task when a worker polls it."""
        task.status = TaskStatus.IN_PROGRESS
        task.poll_count += 1
        task.start_time = task.start_time or self.now
        task.update_time = self.now

    def result(self, task: TaskState, status: TaskStatus, **kw: Any) -> Decision:
        return self.send(TaskResultReceived(task_id=task.task_id, status=status, **kw))

    def pending(self) -> list[TaskState]:
        return [t for t in self.state.tasks if not t.status.terminal]

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)
