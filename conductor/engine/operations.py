"""Operator actions on one workflow: pause, resume, skip a task, reset callbacks, restart, retry,
rerun. A mixin of the decider (engine/decider.py), with Conductor's refusals and messages
(WorkflowExecutorOps): each check runs before anything changes, so a refused action writes nothing.
"""

from __future__ import annotations

import json

from conductor.engine import attempts
from conductor.engine.decider_base import DeciderBase
from conductor.engine.decision import (
    TimerKind,
    task_timer_keys,
    timer_key,
)
from conductor.engine.inputs import (
    ChildReopened,
    RerunWorkflow,
    RestartWorkflow,
    SkipTask,
    UpdateVariables,
)
from conductor.engine.model import (
    JSON,
    TaskState,
    TaskStatus,
    TaskType,
    WorkflowState,
    WorkflowStatus,
)
from conductor.engine.task_tree import task_by_ref
from conductor.engine.task_types import Shape, is_worker_task, spec_of
from conductor.engine.templates import build_document
from conductor.errors import BadRequest, Conflict, IllegalState, NotFound

_UNSUCCESSFUL = (
    TaskStatus.FAILED,
    TaskStatus.FAILED_WITH_TERMINAL_ERROR,
    TaskStatus.TIMED_OUT,
    TaskStatus.CANCELED,
)


def first_unsuccessful_task(state: WorkflowState) -> TaskState | None:
    """The task attempt, not since retried, whose failure ended the run: the earliest failed or
    timed-out one, else the earliest canceled one (retry with resumeSubworkflowTasks starts its
    search for the failed run here)."""
    candidates = sorted(
        (t for t in state.tasks if t.status in _UNSUCCESSFUL and not t.retried),
        key=lambda t: (t.status is TaskStatus.CANCELED, t.seq),
    )
    return candidates[0] if candidates else None


def failed_child_id(state: WorkflowState, failed: TaskState) -> str | None:
    """The child run behind a failed task: a SUB_WORKFLOW's own, or for a failed DO_WHILE that
    of a failed SUB_WORKFLOW attempt (not since retried) among its iterations."""
    if failed.task_type == TaskType.DO_WHILE:
        subs = [
            t
            for t in state.tasks
            if t.task_type == TaskType.SUB_WORKFLOW and t.status in _UNSUCCESSFUL and not t.retried
        ]
        if not subs:
            return None
        failed = min(subs, key=lambda t: (t.status is TaskStatus.CANCELED, t.seq))
    if failed.task_type != TaskType.SUB_WORKFLOW:
        return None
    child = failed.output_data.get("subWorkflowId")
    return child if isinstance(child, str) and child else None


class Operations(DeciderBase):
    # -- pause and resume ---------------------------------------------------------------------

    def pause(self) -> None:
        state = self.state
        if state.status.terminal:
            raise Conflict(f"Workflow {_short(state)} has ended, status cannot be updated.")
        if state.status is WorkflowStatus.PAUSED:
            self.decision.ignored = True
            return
        state.status = WorkflowStatus.PAUSED
        self._workflow_touched()

    def resume(self) -> None:
        state = self.state
        if state.status is not WorkflowStatus.PAUSED:
            raise IllegalState(
                f"The workflow {state.workflow_id} is not PAUSED so cannot resume. "
                f"Current status is {state.status.value}"
            )
        state.status = WorkflowStatus.RUNNING
        state.last_retried_time = self.ctx.now  # the workflow timeout counts from here
        self._workflow_touched()
        self._arm_workflow_timeout()
        self.evaluate()

    # -- tasks of a running workflow ----------------------------------------------------------

    def skip_task(self, request: SkipTask) -> None:
        state, ref = self.state, request.ref_name
        if state.status is not WorkflowStatus.RUNNING:
            raise IllegalState(
                f"The workflow {state.workflow_id} is not running so the task referenced by "
                f"{ref} cannot be skipped"
            )
        workflow_task = task_by_ref(state.definition.get("tasks") or [], ref)
        if workflow_task is None:
            raise IllegalState(
                f"The task referenced by {ref} does not exist in the WorkflowDefinition "
                f"{state.name}"
            )
        if any(t.ref_name == ref for t in state.tasks):
            raise IllegalState(
                f"The task referenced {ref} has already been processed, cannot be skipped"
            )
        now = self.ctx.now
        skipped = TaskState(
            task_id=self.ctx.new_id(),
            workflow_id=state.workflow_id,
            task_type=str(workflow_task.get("name", ref)),
            task_def_name=str(workflow_task.get("name", ref)),
            ref_name=ref,
            seq=max((t.seq for t in state.tasks), default=0) + 1,
            workflow_task=workflow_task,
            status=TaskStatus.SKIPPED,
            input_data=dict(request.task_input or {}),
            output_data=dict(request.task_output or {}),
            scheduled_time=now,
            end_time=now,
            update_time=now,
            first_scheduled_time=now,
            # Nothing to process now: the decider jumps over it when the flow reaches `ref`.
            executed=True,
        )
        state.tasks.append(skipped)
        self.decision.new_tasks.append(skipped)
        self.evaluate()

    def reset_callbacks(self) -> None:
        """Worker tasks waiting out a callbackAfterSeconds become pollable now."""
        state = self.state
        if state.status.terminal:
            raise Conflict(f"Workflow is in terminal state. Status = {state.status.value}")
        for task in state.tasks:
            if (
                task.status is TaskStatus.SCHEDULED
                and task.callback_after_seconds > 0
                and is_worker_task(task.workflow_task)
            ):
                attempts.requeue(state, task, self.decision, self.ctx, 0)
                self.decision.cleared_timer_keys.append(
                    timer_key(TimerKind.QUEUE_VISIBLE, task.task_id)
                )
                self.decision.touch(task)

    # -- finished workflows -------------------------------------------------------------------

    def restart(self, request: RestartWorkflow) -> None:
        state = self.state
        if not state.status.terminal:
            raise Conflict(f"Workflow: {_long(state)} is not in terminal state, unable to restart.")
        definition = request.definition or state.definition
        if definition.get("restartable") is False and state.status is WorkflowStatus.COMPLETED:
            raise NotFound(f"Workflow: {_long(state)} is non-restartable")
        if request.definition is not None:
            state.definition = request.definition
            self.decision.definition_changed = True
        self._drop_tasks(state.tasks)
        state.create_time = self.ctx.now
        state.last_retried_time = 0
        self._reopen()
        self._arm_workflow_timeout()
        self._tell_parent("restarted")
        self.evaluate()

    def retry(self) -> None:
        """Run the failed part again: a fresh attempt of each failed or canceled task."""
        state = self.state
        if not state.status.terminal:
            raise NotFound(f"Workflow is still running.  status={state.status.value}")
        if not state.tasks:
            raise Conflict("Workflow has not started yet")
        reopened, retriable = self._retry_selection()
        if not retriable and state.status is not WorkflowStatus.TIMED_OUT:
            raise Conflict(
                "There are no retryable tasks! Use restart if you want to attempt entire "
                "workflow execution again."
            )
        state.last_retried_time = self.ctx.now
        self._reopen(keep_failures=True)
        for task in reopened:
            self._set_in_progress(task)
        self._fresh_attempts(retriable)
        self._arm_workflow_timeout()
        self._tell_parent("retried")
        self.evaluate()

    def rerun(self, request: RerunWorkflow) -> None:
        state = self.state
        if not state.status.terminal:
            raise Conflict(f"Workflow: {_long(state)} is not in terminal state, unable to rerun.")
        start_from: TaskState | None = None
        if request.from_task_id is not None:
            start_from = state.task(request.from_task_id)
            if start_from is None:
                raise BadRequest(f"Task {request.from_task_id} not found")
        if request.correlation_id is not None:
            state.correlation_id = request.correlation_id
        if request.workflow_input is not None:
            state.input = dict(request.workflow_input)
        # Unlike Conductor, the workflow timeout counts from the rerun, not from the first start.
        state.last_retried_time = self.ctx.now
        self._reopen()
        if start_from is None:
            self._drop_tasks(state.tasks)
        else:
            self._drop_tasks([t for t in state.tasks if t.seq > start_from.seq])
            self._reset_task(start_from, request.task_input)
        self._arm_workflow_timeout()
        self._tell_parent("reran")
        self.evaluate()

    def child_reopened(self, event: ChildReopened) -> None:
        """A child run again: its SUB_WORKFLOW task waits for it again (Conductor's
        updateAndPushParents). A finished parent runs again too, the rest of its failed part
        retried as `retry` would, and tells its own parent in turn. Ignored when the task has
        since been superseded (retried, or now watching another child), is optional, already
        waits, or succeeded (the parent went on with that child's result)."""
        state = self.state
        task = state.task(event.task_id)
        if (
            task is None
            or task.retried
            or task.task_type != TaskType.SUB_WORKFLOW
            or task.output_data.get("subWorkflowId") != event.child_id
            or task.workflow_task.get("optional") is True
            or task.status not in _UNSUCCESSFUL
        ):
            self.decision.ignored = True
            return
        now = self.ctx.now
        if state.status.terminal:
            reopened, retriable = self._retry_selection(skip_ref=task.ref_name)
            state.last_retried_time = now
            self._reopen()
            for other in reopened:
                self._set_in_progress(other)
            self._fresh_attempts(retriable)
            self._arm_workflow_timeout()
            self._tell_parent(event.operation)
        else:
            self._workflow_touched()
        task.reason_for_incompletion = None
        task.start_time = now  # its timeouts count from the revival
        self._set_in_progress(task)
        self.decision.log(task.task_id, f"Sub workflow {event.child_id} {event.operation}.", now)
        # The child may already have ended again (its retry failed at once, or its report came
        # first and was ignored): look at it now, as a child's own report does.
        self.decision.arm(
            TimerKind.SUBWORKFLOW_DONE, state.workflow_id, task.task_id, now, event.child_id
        )
        self.evaluate()

    def update_variables(self, request: UpdateVariables) -> None:
        """Conductor's update_workflow_variables: only a running (or paused) run changes."""
        state = self.state
        if state.status.terminal:
            self.decision.ignored = True
            return
        variables = dict(state.variables)
        for key, value in request.variables.items():
            current = variables.get(key)
            if request.append_array and isinstance(current, list) and isinstance(value, list):
                variables[key] = [*current, *value]
            else:
                variables[key] = value
        state.variables = variables
        self._workflow_touched()

    # -- helpers ------------------------------------------------------------------------------

    def _workflow_touched(self) -> None:
        self.state.update_time = self.ctx.now
        self.decision.workflow_changed = True

    def _reopen(self, keep_failures: bool = False) -> None:
        state = self.state
        state.status = WorkflowStatus.RUNNING
        state.reason_for_incompletion = None
        state.end_time = 0
        self.decision.reopened = True
        state.output = {}
        if not keep_failures:
            state.failed_reference_task_names = []
            state.failed_task_names = []
        self._workflow_touched()

    def _retry_selection(
        self, skip_ref: str | None = None
    ) -> tuple[list[TaskState], list[TaskState]]:
        """What a retry runs again: (JOINs and loops to reopen in place, the latest failed or
        canceled attempt of each other reference, to attempt afresh, in schedule order)."""
        retriable: dict[str, TaskState] = {}
        reopened: list[TaskState] = []
        for task in sorted(self.state.tasks, key=lambda t: t.seq):
            if task.retried or task.ref_name == skip_ref:
                continue
            status = task.status
            shape = spec_of(task.workflow_task).shape
            if (status is TaskStatus.FAILED and shape is Shape.JOIN) or (
                status is TaskStatus.CANCELED
                and task.task_type in (TaskType.JOIN, TaskType.DO_WHILE)
            ):
                reopened.append(task)
            elif status in _UNSUCCESSFUL:
                retriable[task.ref_name] = task
            else:
                retriable.pop(task.ref_name, None)
        return reopened, sorted(retriable.values(), key=lambda t: t.seq)

    def _set_in_progress(self, task: TaskState) -> None:
        """Reopen a finished task in place (a JOIN, a loop, a SUB_WORKFLOW whose child runs
        again)."""
        task.status = TaskStatus.IN_PROGRESS
        task.end_time = 0
        task.executed = False
        task.update_time = self.ctx.now
        self.decision.touch(task)

    def _fresh_attempts(self, tasks: list[TaskState]) -> None:
        """Schedule a new attempt of each task (in order), superseding it."""
        state = self.state
        doc = build_document(state)
        for task in tasks:
            attempt = attempts.new_task(state, task.workflow_task, self.ctx, doc, retry_of=task)
            attempt.reason_for_incompletion = None
            task.retried = True
            task.executed = True
            self.decision.touch(task)
            attempts.schedule(state, attempt, self.decision, self.ctx)
            if attempt.queue_name is None:
                self._start_system_task(attempt)

    def _tell_parent(self, operation: str) -> None:
        """A child that runs again wakes its parent's SUB_WORKFLOW task, durably (a timer due
        now, fired after commit into the parent's own transition)."""
        state = self.state
        if not (state.parent_workflow_id and state.parent_workflow_task_id):
            return
        payload = json.dumps({"child": state.workflow_id, "operation": operation})
        self.decision.arm(
            TimerKind.SUBWORKFLOW_REOPENED,
            state.parent_workflow_id,
            state.parent_workflow_task_id,
            self.ctx.now,
            payload,
        )

    def _drop_tasks(self, tasks: list[TaskState]) -> None:
        gone = {t.task_id for t in tasks}
        for task_id in gone:
            self.decision.deleted_tasks.append(task_id)
            self.decision.cleared_timer_keys.extend(task_timer_keys(task_id))
            self.decision.changed_tasks.pop(task_id, None)
        self.state.tasks = [t for t in self.state.tasks if t.task_id not in gone]

    def _reset_task(self, task: TaskState, task_input: JSON | None) -> None:
        now = self.ctx.now
        task.status = TaskStatus.SCHEDULED
        if task_input is not None:
            task.input_data = dict(task_input)
        task.output_data = {}
        task.reason_for_incompletion = None
        task.scheduled_time = now
        task.start_time = 0
        task.end_time = 0
        task.update_time = now
        task.poll_count = 0
        task.worker_id = None
        task.retried = False
        task.executed = False
        task.callback_after_seconds = 0
        self.decision.touch(task)
        if task.queue_name is not None:
            attempts.requeue(self.state, task, self.decision, self.ctx, 0)
        else:
            self._start_system_task(task)


def _short(state: WorkflowState) -> str:
    return f"{state.name}.{state.version}/{state.workflow_id}"


def _long(state: WorkflowState) -> str:
    return f"{_short(state)}.{state.status.value}"
