"""The decider: one event plus the workflow's state in, the next state and its side effects out.

Pure: no I/O, no clock, no randomness (time, ids and jitter come in a `DecideContext`). The caller
loads the state under a row lock, calls `decide`, and writes the `Decision` in the same
transaction. Semantics follow Conductor's DeciderService (conductor-spec §4).
"""

from __future__ import annotations

import json

from conductor.engine import attempts, inputs
from conductor.engine.decision import (
    DecideContext,
    Decision,
    EventMessage,
    TimerKind,
    task_timer_keys,
    timer_key,
)
from conductor.engine.definitions import next_task, scheduling_problem
from conductor.engine.flow_control import FlowControl
from conductor.engine.model import (
    JSON,
    TaskState,
    TaskStatus,
    TaskType,
    TimeoutPolicy,
    WorkflowState,
    WorkflowStatus,
    base_ref,
    loop_ref,
)
from conductor.engine.operations import Operations
from conductor.engine.retry import can_retry, retry_delay_seconds
from conductor.engine.task_starts import (
    StartResult,
    async_complete,
    record_case,
    selected_branch,
)
from conductor.engine.task_types import Shape, is_worker_task, spec_of
from conductor.engine.templates import build_document, resolve
from conductor.engine.timeouts import (
    check_task,
    task_timeout_at,
    total_timeout_at,
    workflow_deadline,
    workflow_timeout_reason,
)
from conductor.errors import Conflict

REASON_LIMIT = 500


def webhook_sink(definition: JSON) -> str | None:
    """The status listener's webhook URL: `workflowStatusListenerSink` as `webhook:<url>` or a
    plain http(s) URL, when `workflowStatusListenerEnabled`; None otherwise."""
    if definition.get("workflowStatusListenerEnabled") is not True:
        return None
    sink = definition.get("workflowStatusListenerSink")
    if not isinstance(sink, str):
        return None
    url = sink.removeprefix("webhook:").strip()
    return url if url.startswith(("http://", "https://")) else None


def decide(state: WorkflowState, given: inputs.Input, ctx: DecideContext) -> Decision:
    """Apply `given` to `state` (mutated in place) and return what must be written."""
    pending = {t.task_id for t in state.tasks if not t.status.terminal}
    decider = _Decider(state, ctx)
    decider.handle(given)
    decision = decider.decision
    decision.finished_tasks = [
        t for t in decision.changed_tasks.values() if t.status.terminal and t.task_id in pending
    ]
    decision.finished_tasks += [t for t in decision.new_tasks if t.status.terminal]
    return decision


class _Decider(FlowControl, Operations):
    def __init__(self, state: WorkflowState, ctx: DecideContext) -> None:
        self.state = state
        self.ctx = ctx
        self.decision = Decision()

    # -- inputs -------------------------------------------------------------------------------

    def handle(self, given: inputs.Input) -> None:
        match given:
            case inputs.StartWorkflow():
                self._arm_workflow_timeout()
                self.evaluate()
            case inputs.TaskResultReceived():
                if self._apply_result(given):
                    self.evaluate()
            case inputs.TerminateWorkflow():
                self.terminate(given.reason, given.trigger_failure_workflow)
            case inputs.LoopConditionEvaluated():
                if self._apply_loop_condition(given):
                    self.evaluate()
            case inputs.TimerFired() | inputs.Reevaluate():
                self.evaluate()
            case _:
                self._operate(given)

    def _operate(self, given: inputs.Input) -> None:
        """Operator actions (engine/operations.py)."""
        match given:
            case inputs.PauseWorkflow():
                self.pause()
            case inputs.ResumeWorkflow():
                self.resume()
            case inputs.SkipTask():
                self.skip_task(given)
            case inputs.ResetCallbacks():
                self.reset_callbacks()
            case inputs.RestartWorkflow():
                self.restart(given)
            case inputs.RetryWorkflow():
                self.retry()
            case inputs.RerunWorkflow():
                self.rerun(given)
            case inputs.UpdateVariables():
                self.update_variables(given)
            case inputs.ChildReopened():
                self.child_reopened(given)

    def _apply_result(self, result: inputs.TaskResultReceived) -> bool:
        """Record a worker's result; True when the task reached a terminal status."""
        task = self.state.task(result.task_id)
        if task is None or task.status.terminal or self.state.status.terminal:
            self.decision.ignored = True  # duplicate or late update: an idempotent no-op
            return False
        now = self.ctx.now
        for line in result.logs:
            self.decision.log(task.task_id, line, now)
        if result.worker_id:
            task.worker_id = result.worker_id
        task.update_time = now
        self.decision.touch(task)
        if result.extend_lease:
            self._arm_response_timeout(task)
            return False
        if result.output is not None:
            task.output_data = result.output
        if result.reason is not None:
            task.reason_for_incompletion = result.reason[:REASON_LIMIT]
        if result.status is TaskStatus.IN_PROGRESS:
            if is_worker_task(task.workflow_task):
                delay = max(result.callback_after_seconds, 0)
                attempts.requeue(self.state, task, self.decision, self.ctx, delay)
            elif task.status is TaskStatus.SCHEDULED:  # a system task reports it has started
                task.status = TaskStatus.IN_PROGRESS
                task.start_time = task.start_time or now
                if async_complete(task):  # done its work; waits for an external update
                    self._arm_waiting_timeouts(task)
            return False
        self._finish_task(task, result.status)
        if spec_of(task.workflow_task).shape is Shape.BRANCH:
            record_case(task)
        return True

    def _finish_task(self, task: TaskState, status: TaskStatus) -> None:
        # Only a SCHEDULED worker task has a queue row: a claim removes it as it starts the task.
        if task.status is TaskStatus.SCHEDULED and task.queue_name is not None:
            self.decision.removals.append(task.task_id)
        task.status = status
        task.end_time = self.ctx.now
        task.update_time = self.ctx.now
        self.decision.touch(task)
        self.decision.cleared_timer_keys.extend(task_timer_keys(task.task_id))

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self) -> None:
        state = self.state
        if state.status.terminal:
            return
        reason = workflow_timeout_reason(state, self.ctx.now)
        if reason is not None:
            self._end_workflow(WorkflowStatus.TIMED_OUT, reason)
            return
        if state.status is WorkflowStatus.PAUSED:
            return
        if not state.tasks:
            self._schedule_first()
        while True:
            for task in list(state.tasks):
                if not task.status.terminal:
                    self._check_timeouts(task)
                    if self._ended():
                        return
            progressed = False
            for task in list(state.tasks):
                if task.status.terminal and not task.executed and not task.retried:
                    progressed = True
                    if not self._process_terminal(task):
                        return
            # After failures were retried or accepted, so a JOIN never fails on a retried task.
            progressed |= self._check_waits()
            progressed |= self._check_joins()
            progressed |= self._check_loops()
            if not progressed:
                break
        self._complete_if_done()

    def _schedule_first(self) -> None:
        tasks = self.state.definition.get("tasks") or []
        if tasks:
            self._schedule(tasks[0])

    def _schedule(self, workflow_task: JSON, iteration: int = 0) -> None:
        if self._ended():  # a sibling just ended the run (a fork's other branch, say)
            return
        ref = loop_ref(str(workflow_task.get("taskReferenceName")), iteration)
        existing = next((t for t in self.state.tasks if t.ref_name == ref), None)
        if existing is not None:  # never create a task twice for one reference
            if existing.status is TaskStatus.SKIPPED:  # skipped by an operator: jump over it
                following = next_task(self.state.definition, base_ref(ref))
                if following is not None:
                    self._schedule(following, iteration)
            return
        problem = scheduling_problem(self.state.definition, workflow_task)
        if problem is not None:
            self._end_workflow(WorkflowStatus.FAILED, problem)
            return
        doc = build_document(self.state)
        substitute = spec_of(workflow_task).substitute
        if substitute is not None:
            chosen = substitute(workflow_task, doc)
            if isinstance(chosen, str):
                self._end_workflow(WorkflowStatus.FAILED, chosen)
                return
            workflow_task = chosen
        delay = workflow_task.get("startDelay")
        task = attempts.new_task(
            self.state,
            workflow_task,
            self.ctx,
            doc,
            iteration=iteration,
            delay_seconds=delay if isinstance(delay, int) and delay > 0 else 0,
        )
        attempts.schedule(self.state, task, self.decision, self.ctx)
        if task.queue_name is None:
            self._start_system_task(task, task.start_delay_seconds * 1000)
            is_loop = spec_of(task.workflow_task).shape is Shape.LOOP
            if is_loop and task.status is TaskStatus.IN_PROGRESS:
                self._begin_iteration(task, 1)

    def _check_waits(self) -> bool:
        """Complete timed WAITs whose due time has come; True if any did."""
        done = False
        for task in self.state.tasks:
            if (
                task.task_type == TaskType.WAIT
                and task.status is TaskStatus.IN_PROGRESS
                and 0 < task.wait_until <= self.ctx.now
            ):
                self._finish_task(task, TaskStatus.COMPLETED)
                done = True
        return done

    def _start_system_task(self, task: TaskState, delay_ms: int = 0) -> None:
        """Hand a system task to its runtime (a SYSTEM_TASK timer), or let its starter give it
        its first status and output now."""
        spec = spec_of(task.workflow_task)
        if spec.deferred(task.workflow_task):
            if spec.prepare is not None:
                spec.prepare(task, build_document(self.state))
            fire_at = self.ctx.now + delay_ms
            self.decision.arm(TimerKind.SYSTEM_TASK, task.workflow_id, task.task_id, fire_at)
            return
        now = self.ctx.now
        variables_before = self.state.variables
        if spec.start is not None:
            result = spec.start(task, self.state, now)
        else:  # validation refuses such definitions; a stored one fails cleanly
            result = StartResult(
                TaskStatus.FAILED_WITH_TERMINAL_ERROR,
                {},
                f"Task type {task.task_type} is not supported by this server",
            )
        task.start_time = now
        task.status = result.status
        task.output_data = result.output
        task.reason_for_incompletion = result.reason
        if result.status.terminal:
            task.end_time = now
        elif result.status is TaskStatus.IN_PROGRESS and async_complete(task):
            self._arm_waiting_timeouts(task)
        if result.wake_at is not None:
            task.wait_until = result.wake_at
            self.decision.arm(TimerKind.WAIT, task.workflow_id, task.task_id, result.wake_at)
        if result.publish_to is not None:
            self.decision.events.append(
                EventMessage(result.publish_to, task.task_id, dict(result.output), now)
            )
        if self.state.variables is not variables_before:
            self.decision.workflow_changed = True

    def _process_terminal(self, task: TaskState) -> bool:
        """Retry or accept a terminal task and schedule what follows; False if the run ended."""
        if not task.status.successful and not self._handle_failure(task):
            return False
        task.executed = True
        self.decision.touch(task)
        if task.retried:
            return True
        shape = spec_of(task.workflow_task).shape
        if shape is Shape.TERMINATE and task.status is TaskStatus.COMPLETED:
            self._terminate_by_task(task)
            return False
        # A loop's own successor is outside it; anything else stays in its iteration.
        iteration = 0 if shape is Shape.LOOP else task.iteration
        if shape is Shape.BRANCH:
            branch = selected_branch(task.workflow_task, str(task.input_data.get("case")))
            if branch:
                self._schedule(branch[0], iteration)
                return True
        if shape is Shape.FORK:
            for fork in task.workflow_task.get("forkTasks") or []:
                if fork:
                    self._schedule(fork[0], iteration)
        if shape is Shape.DYNAMIC_FORK:
            return self._fork_dynamically(task, iteration)
        following = next_task(self.state.definition, base_ref(task.ref_name))
        if following is not None:
            self._schedule(following, iteration)
        return True

    def _terminate_by_task(self, task: TaskState) -> None:
        status = WorkflowStatus(str(task.input_data["terminationStatus"]))
        reason = task.input_data.get("terminationReason") or (
            f"Workflow is {status.value} by TERMINATE task: {task.task_id}"
        )
        self._end_workflow(
            status,
            str(reason),
            output=dict(task.output_data),
            failure_workflow=status in (WorkflowStatus.FAILED, WorkflowStatus.TERMINATED),
            failed_task=task,
        )

    def _handle_failure(self, task: TaskState) -> bool:
        """Retry the task, or mark an optional one done; otherwise fail the workflow."""
        if task.status in (TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR):
            _add_once(self.state.failed_reference_task_names, task.ref_name)
            _add_once(self.state.failed_task_names, task.task_def_name)
            self.decision.workflow_changed = True
        settings = task.settings
        override = task.workflow_task.get("retryCount")
        allowed_override = int(override) if isinstance(override, int) else None
        if (
            task.status.retriable
            and spec_of(task.workflow_task).retried
            and can_retry(settings, allowed_override, task.retry_count)
            and not self._total_timeout_exceeded(task)
        ):
            delay = retry_delay_seconds(settings, task.retry_count)
            jitter = (
                self.ctx.jitter_ms(settings.backoff_jitter_ms) if settings.backoff_jitter_ms else 0
            )
            doc = build_document(self.state)
            retry = attempts.new_task(
                self.state, task.workflow_task, self.ctx, doc, retry_of=task, delay_seconds=delay
            )
            attempts.schedule(self.state, retry, self.decision, self.ctx, jitter)
            if retry.queue_name is None:  # a system task (HTTP, ...) runs again after the delay
                self._start_system_task(retry, delay * 1000 + jitter)
            task.retried = True
            task.executed = True
            self.decision.touch(task)
            return True
        if task.optional:
            task.status = TaskStatus.COMPLETED_WITH_ERRORS
            self.decision.touch(task)
            return True
        status = {
            TaskStatus.TIMED_OUT: WorkflowStatus.TIMED_OUT,
            TaskStatus.CANCELED: WorkflowStatus.TERMINATED,
        }.get(task.status, WorkflowStatus.FAILED)
        task.executed = True
        self.decision.touch(task)
        reason = (
            f"Task {task.task_id} failed with status: {status.value} and reason: "
            f"'{task.reason_for_incompletion}'"
        )
        self._end_workflow(status, reason, failure_workflow=True, failed_task=task)
        return False

    def _total_timeout_exceeded(self, task: TaskState) -> bool:
        total_at = total_timeout_at(task)
        return total_at is not None and self.ctx.now >= total_at

    def _check_timeouts(self, task: TaskState) -> None:
        timeout = check_task(task, self.ctx.now)
        if timeout is None or timeout.policy is TimeoutPolicy.ALERT_ONLY:
            return
        task.reason_for_incompletion = timeout.reason
        self._finish_task(task, TaskStatus.TIMED_OUT)
        if timeout.policy is TimeoutPolicy.TIME_OUT_WF:
            task.executed = True
            self._end_workflow(WorkflowStatus.TIMED_OUT, timeout.reason)

    def _complete_if_done(self) -> None:
        state = self.state
        if any(not t.status.terminal for t in state.tasks):
            return
        if any(not t.executed for t in state.tasks):
            return
        done_refs = {t.ref_name for t in state.tasks if t.status.successful}
        for workflow_task in state.definition.get("tasks") or []:
            if workflow_task.get("taskReferenceName") not in done_refs:
                return
        state.output = self._workflow_output()
        state.status = WorkflowStatus.COMPLETED
        state.end_time = self.ctx.now
        self._mark_finished()

    # -- ending -------------------------------------------------------------------------------

    def _ended(self) -> bool:
        return self.state.status.terminal

    def terminate(self, reason: str | None, trigger_failure_workflow: bool = False) -> None:
        status = self.state.status
        if status is WorkflowStatus.COMPLETED:
            raise Conflict(f"Cannot terminate a {status.value} workflow.")
        if status is WorkflowStatus.TERMINATED:
            self.decision.ignored = True
            return
        # An operator's terminate starts the failureWorkflow only when asked to (Conductor).
        self._end_workflow(
            WorkflowStatus.TERMINATED, reason, failure_workflow=trigger_failure_workflow
        )

    def _end_workflow(
        self,
        status: WorkflowStatus,
        reason: str | None,
        output: JSON | None = None,
        *,
        failure_workflow: bool | None = None,
        failed_task: TaskState | None = None,
    ) -> None:
        """End the run. `failure_workflow`: start the definition's failureWorkflow (by default
        when the run failed or timed out)."""
        state = self.state
        for task in state.tasks:
            if not task.status.terminal:
                self._stop_child(task, status, reason)
                self._finish_task(task, TaskStatus.CANCELED)
                task.executed = True
        state.status = status
        state.reason_for_incompletion = reason
        state.output = output if output is not None else self._workflow_output()
        state.end_time = self.ctx.now
        if failure_workflow is None:
            failure_workflow = status in (WorkflowStatus.FAILED, WorkflowStatus.TIMED_OUT)
        if failure_workflow:
            self._start_failure_workflow(status, reason, failed_task)
        self._mark_finished()

    def _start_failure_workflow(
        self, status: WorkflowStatus, reason: str | None, failed_task: TaskState | None
    ) -> None:
        """Durably start the definition's failureWorkflow: a timer carries the new run's id
        (recorded in this run's output too). The executor starts that run in this same
        transaction and drops the timer; the timer is there for when it could not (firing it
        twice still starts one run)."""
        name = resolve(self.state.definition.get("failureWorkflow"), build_document(self.state))
        if not isinstance(name, str) or not name.strip():
            return
        if failed_task is None:
            failed_task = next(
                (t for t in reversed(self.state.tasks) if not t.status.successful), None
            )
        run_id = self.ctx.new_id()
        self.state.output["conductor.failure_workflow"] = run_id
        payload: JSON = {
            "workflowId": run_id,
            "name": name.strip(),
            "reason": reason,
            "failureStatus": status.value,
            "failureTaskId": failed_task.task_id if failed_task else None,
        }
        version = self.state.definition.get("failureWorkflowVersion")
        if isinstance(version, int) and not isinstance(version, bool) and version > 0:
            payload["version"] = version
        self.decision.arm(
            TimerKind.FAILURE_WORKFLOW,
            self.state.workflow_id,
            None,
            self.ctx.now,
            json.dumps(payload),
        )

    def _stop_child(self, task: TaskState, status: WorkflowStatus, reason: str | None) -> None:
        """A parent that ends takes its running child workflow down with it."""
        is_sub_workflow = task.task_type == TaskType.SUB_WORKFLOW
        child = task.output_data.get("subWorkflowId") if is_sub_workflow else None
        if not isinstance(child, str):
            return
        why = (
            f"Parent workflow has been terminated with reason: {reason}"
            if reason
            else f"Parent workflow has been terminated with status {status.value}"
        )
        self.decision.arm(TimerKind.TERMINATE_WORKFLOW, child, None, self.ctx.now, why)

    def _mark_finished(self) -> None:
        state = self.state
        if state.parent_workflow_id and state.parent_workflow_task_id:
            # Durably tell the parent's SUB_WORKFLOW task (a timer due now, fired after commit).
            self.decision.arm(
                TimerKind.SUBWORKFLOW_DONE,
                state.parent_workflow_id,
                state.parent_workflow_task_id,
                self.ctx.now,
                state.workflow_id,
            )
        self.state.update_time = self.ctx.now
        self.decision.workflow_changed = True
        self.decision.finished = True
        sink = webhook_sink(self.state.definition)
        if sink is not None:
            self.decision.arm(
                TimerKind.STATUS_LISTENER,
                self.state.workflow_id,
                None,
                self.ctx.now,
                json.dumps({"url": sink, "attempt": 0}),
            )
        self.decision.cleared_timer_keys.append(
            timer_key(TimerKind.WORKFLOW_TIMEOUT, self.state.workflow_id)
        )

    def _workflow_output(self) -> JSON:
        params = self.state.definition.get("outputParameters")
        if isinstance(params, dict) and params:
            resolved = resolve(params, build_document(self.state))
            return dict(resolved)
        for task in reversed(self.state.tasks):
            if task.status.terminal:
                return dict(task.output_data)
        return {}

    # -- timers -------------------------------------------------------------------------------

    def _arm_workflow_timeout(self) -> None:
        deadline = workflow_deadline(self.state)
        if deadline is not None:
            self.decision.arm(TimerKind.WORKFLOW_TIMEOUT, self.state.workflow_id, None, deadline)

    def _arm_waiting_timeouts(self, task: TaskState) -> None:
        """A system task waiting IN_PROGRESS for an external update (asyncComplete): wake the
        decider when its timeoutSeconds or totalTimeoutSeconds runs out, as a worker task's
        claim does. (Conductor skips the response timeout for such tasks:
        DeciderService.isResponseTimedOut; so does `timeouts.response_timed_out`.)"""
        for kind, fire_at in (
            (TimerKind.TASK_TIMEOUT, task_timeout_at(task)),
            (TimerKind.TOTAL_TIMEOUT, total_timeout_at(task)),
        ):
            if fire_at is not None:
                self.decision.arm(kind, task.workflow_id, task.task_id, fire_at)

    def _arm_response_timeout(self, task: TaskState) -> None:
        rt = task.settings.response_timeout_seconds
        if task.status is TaskStatus.IN_PROGRESS and rt > 0:
            fire_at = self.ctx.now + rt * 1000
            self.decision.arm(TimerKind.RESPONSE_TIMEOUT, task.workflow_id, task.task_id, fire_at)


def _add_once(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)
