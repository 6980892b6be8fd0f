"""Runs the system tasks the decider defers (scripts), then reports their result as a transition.

The decider schedules such a task with a SYSTEM_TASK timer due at once, so the work is durable:
the timer service hands the timer here, the task runs (off the event loop, in the sandbox), and
its result goes through the normal transition path, which also deletes the timer. If the server
dies in between, the timer fires again after its lease and the task runs again; scripts are
pure functions of their input, so running one twice is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from conductor.api.render import workflow_json
from conductor.api.summaries import workflow_summary_of
from conductor.engine import loops
from conductor.engine.decision import TimerKind
from conductor.engine.inputs import LoopConditionEvaluated, TaskResultReceived
from conductor.engine.model import JSON, TaskState, TaskStatus, WorkflowStatus
from conductor.engine.task_types import Lane, spec_of
from conductor.engine.templates import java_string
from conductor.engine.validation import validate_workflow_def
from conductor.errors import NotFound
from conductor.executor import Executor, StartRequest
from conductor.services.http_task import HttpTaskClient
from conductor.services.jq_runner import JqError, JqRunner
from conductor.services.scripts import ScriptError, ScriptSandbox
from conductor.store import tasks as task_store
from conductor.store import timers as timer_store
from conductor.store import workflows as wf_store
from conductor.store.rows import task_from_row
from conductor.store.timers import ClaimedTimer

log = logging.getLogger(__name__)

LISTENER_ATTEMPTS = 10
LISTENER_MAX_BACKOFF_MS = 300_000
DEFAULT_LANE = "default"
WEBHOOK_LANE = "status-listener"  # workflow status webhooks, apart from HTTP tasks
# A call waits this long for room in its lane before it is put back for LANE_FULL_POSTPONE_MS,
# well inside the timer lease, so a waiting call is never claimed a second time.
LANE_WAIT_S = 5.0
LANE_FULL_POSTPONE_MS = 1000


def lane_of(task: TaskState) -> str:
    """A task's isolation lane: its TaskDef's isolationGroupId, or the shared default lane."""
    task_def = task.workflow_task.get("taskDefinition")
    group = task_def.get("isolationGroupId") if isinstance(task_def, dict) else None
    return group if isinstance(group, str) and group else DEFAULT_LANE


class _Lane:
    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.waiting = 0


class SystemTaskRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        executor: Executor,
        sandbox: ScriptSandbox,
        jq: JqRunner,
        http: HttpTaskClient,
        *,
        concurrency: int = 4,
        lane_size: int = 32,
    ) -> None:
        """Scripts and other in-server system tasks run at most `concurrency` at a time. Calls
        out of the server (HTTP) run in lanes instead, one per isolation group (the TaskDef's
        isolationGroupId) and a default one, each at most `lane_size` at a time: a slow
        endpoint holds up only its own lane, never the timers or the other lanes."""
        self.pool = pool
        self.executor = executor
        self.sandbox = sandbox
        self.jq = jq
        self.http = http
        self.lane_size = lane_size
        self._limit = asyncio.Semaphore(concurrency)
        self._lanes: dict[str, _Lane] = {}

    async def run(self, timer: ClaimedTimer) -> None:
        if timer.kind == TimerKind.SUBWORKFLOW_DONE.value:
            await self._child_done(timer)
            return
        if timer.kind == TimerKind.FAILURE_WORKFLOW.value:
            await self._failure_workflow(timer)
            return
        if timer.kind == TimerKind.STATUS_LISTENER.value:
            await self._run_in_lane(timer, WEBHOOK_LANE, lambda _: self._notify_listener(timer))
            return
        async with self._limit:
            task = await self._load(timer)
            if task is None:
                return
            if spec_of(task.workflow_task).lane is not Lane.ISOLATED:
                await self._execute(timer, task)
                return
        await self._run_in_lane(
            timer, lane_of(task), lambda waited: self._execute_current(timer, task, waited)
        )

    async def _execute_current(self, timer: ClaimedTimer, task: TaskState, waited: bool) -> None:
        """Run a task; one that waited for its lane is read again, and skipped if it ended."""
        current: TaskState | None = task
        if waited:
            async with self._limit:
                current = await self._load(timer)
        if current is not None:
            await self._execute(timer, current)

    async def _run_in_lane(
        self, timer: ClaimedTimer, name: str, work: Callable[[bool], Awaitable[None]]
    ) -> None:
        """Run `work` in lane `name` (told whether it had to wait for room), or put the timer
        back when the lane stays full."""
        lane = self._lanes.setdefault(name, _Lane(self.lane_size))
        waited = lane.slots.locked()
        if lane.waiting >= self.lane_size:
            await self._postpone(timer, name)
            return
        lane.waiting += 1
        try:
            await asyncio.wait_for(lane.slots.acquire(), LANE_WAIT_S)
        except TimeoutError:
            await self._postpone(timer, name)
            return
        finally:
            lane.waiting -= 1
        try:
            await work(waited)
        finally:
            lane.slots.release()

    async def _execute(self, timer: ClaimedTimer, task: TaskState) -> None:
        if task.task_type == "DO_WHILE":
            await self._loop_condition(timer, task)
            return
        status, output, reason = await self.execute(task)
        event = TaskResultReceived(task.task_id, status, output=output, reason=reason)
        await self.executor.transition(timer.workflow_id, event, (timer.key, timer.claimed_fire_at))

    async def _postpone(self, timer: ClaimedTimer, lane: str) -> None:
        """A full lane: put the timer back a little later instead of holding it in memory (it
        would count against the timer service's claims and could outlive its lease)."""
        fire_at = self.executor.clock.now_ms() + LANE_FULL_POSTPONE_MS
        async with self._limit, self.pool.acquire() as conn:
            await timer_store.reschedule(
                conn, timer.key, timer.claimed_fire_at, fire_at, timer.payload
            )
        self.executor.metrics.system_tasks_postponed.labels(lane).inc()
        self.executor.wakeups.timer_due(fire_at)

    async def _load(self, timer: ClaimedTimer) -> TaskState | None:
        async with self.pool.acquire() as conn:
            row = await task_store.get(conn, timer.task_id or "")
            if row is None or TaskStatus(row["status"]).terminal:
                await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)
                return None
        return task_from_row(row)

    async def execute(self, task: TaskState) -> tuple[TaskStatus, JSON, str | None]:
        kind = task.workflow_task.get("type")
        if kind == "INLINE":
            return await self._inline(task)
        if kind == "SWITCH":
            return await self._case(task, str(task.workflow_task.get("expression")), "switch")
        if kind == "DECISION":
            return await self._case(task, str(task.workflow_task.get("caseExpression")), "decision")
        if kind == "JSON_JQ_TRANSFORM":
            return await self._jq(task)
        if kind == "HTTP":
            return await self.http.call(task.input_data)
        if kind == "SUB_WORKFLOW":
            return await self._sub_workflow(task)
        if kind == "START_WORKFLOW":
            return await self._start_workflow(task)
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"Cannot run task type {kind}"

    async def _sub_workflow(self, task: TaskState) -> tuple[TaskStatus, JSON, str | None]:
        """Launch the child (idempotently: its id is derived from this attempt)."""
        params = task.input_data
        async with self.pool.acquire() as conn:
            parent = await wf_store.get(
                conn, task.workflow_id, self.executor.definitions, include_tasks=False
            )
        if parent is None:
            return TaskStatus.CANCELED, {}, "Parent workflow was removed"
        inline = params.get("subWorkflowDefinition")
        name = params.get("subWorkflowName") or (inline or {}).get("name")
        child_input = params.get("workflowInput") or {}
        if isinstance(inline, dict) and isinstance(child_input, dict):
            child_input = {**child_input, "_systemMetadata": {"dynamic": True}}
        version = params.get("subWorkflowVersion")
        request = StartRequest(
            name=str(name),
            version=version if isinstance(version, int) and version > 0 else None,
            input=child_input if isinstance(child_input, dict) else {},
            correlation_id=parent.correlation_id,
            priority=_priority(params.get("priority"), parent.priority),
            task_to_domain=params.get("subWorkflowTaskToDomain") or parent.task_to_domain,
            workflow_def=inline if isinstance(inline, dict) else None,
            workflow_id=_derived_id("subworkflow", task),
            parent_workflow_id=task.workflow_id,
            parent_workflow_task_id=task.task_id,
        )
        try:
            child = await self.executor.start(request)
        except NotFound as exc:
            return TaskStatus.FAILED, {}, exc.message
        return TaskStatus.IN_PROGRESS, {"subWorkflowId": child.workflow_id}, None

    async def _start_workflow(self, task: TaskState) -> tuple[TaskStatus, JSON, str | None]:
        spec = task.input_data.get("startWorkflow")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            reason = "startWorkflow validation failed. 'startWorkflow.name' -> must not be empty."
            return TaskStatus.FAILED, {}, reason
        async with self.pool.acquire() as conn:
            parent = await wf_store.get(
                conn, task.workflow_id, self.executor.definitions, include_tasks=False
            )
        version = spec.get("version")
        workflow_input = spec.get("input")
        inline = spec.get("workflowDef")
        if isinstance(inline, dict):
            inline = {"version": 1, "schemaVersion": 2, **inline}
            problems = validate_workflow_def(inline, "startWorkflow.workflowDef")
            if problems:
                first = problems[0]
                reason = f"startWorkflow validation failed. '{first.path}' -> {first.message}."
                return TaskStatus.FAILED, {}, reason
        request = StartRequest(
            name=spec["name"],
            workflow_def=inline if isinstance(inline, dict) else None,
            version=version if isinstance(version, int) and version > 0 else None,
            input=workflow_input if isinstance(workflow_input, dict) else {},
            correlation_id=spec.get("correlationId") or (parent.correlation_id if parent else None),
            task_to_domain=spec.get("taskToDomain") or (parent.task_to_domain if parent else {}),
            workflow_id=_derived_id("startworkflow", task),
        )
        try:
            started = await self.executor.start(request)
        except NotFound as exc:
            return TaskStatus.FAILED, {}, exc.message
        return TaskStatus.COMPLETED, {"workflowId": started.workflow_id}, None

    async def _child_done(self, timer: ClaimedTimer) -> None:
        """Report a finished child workflow to its parent's SUB_WORKFLOW task."""
        async with self.pool.acquire() as conn:
            child = await wf_store.get(
                conn, timer.payload or "", self.executor.definitions, include_tasks=False
            )
        if child is None or not child.status.terminal:
            async with self.pool.acquire() as conn:
                await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)
            return
        status = _CHILD_TO_TASK[child.status]
        reason = None
        if status is not TaskStatus.COMPLETED:
            reason = (
                f"Sub workflow {child.workflow_id} failure reason: {child.reason_for_incompletion}"
            )
        event = TaskResultReceived(
            timer.task_id or "",
            status,
            output={**child.output, "subWorkflowId": child.workflow_id},
            reason=reason,
        )
        await self.executor.transition(timer.workflow_id, event, (timer.key, timer.claimed_fire_at))

    async def _failure_workflow(self, timer: ClaimedTimer) -> None:
        """Start a failed run's failureWorkflow with Conductor's input. The new run's id came
        with the timer, so a second firing finds it started and does nothing."""
        request = json.loads(timer.payload or "{}")
        async with self.pool.acquire() as conn:
            failed = await wf_store.get(conn, timer.workflow_id, self.executor.definitions)
        if failed is not None:
            workflow_input: JSON = {
                **failed.input,
                "workflowId": failed.workflow_id,
                "reason": request.get("reason"),
                "failureStatus": request.get("failureStatus"),
                "failedWorkflow": workflow_json(failed),
            }
            if request.get("failureTaskId"):
                workflow_input["failureTaskId"] = request["failureTaskId"]
            start = StartRequest(
                name=str(request.get("name")),
                input=workflow_input,
                correlation_id=failed.correlation_id,
                task_to_domain=dict(failed.task_to_domain),
                workflow_id=str(request.get("workflowId")),
            )
            try:
                await self.executor.start(start)
            except NotFound as exc:  # no such failure workflow: nothing to retry
                log.warning("failureWorkflow of %s not started: %s", failed.workflow_id, exc)
        async with self.pool.acquire() as conn:
            await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)

    async def _notify_listener(self, timer: ClaimedTimer) -> None:
        """POST the finished run's summary to its webhook; on an error or a non-2xx answer try
        again with exponential back-off (1 s, 2 s, ... capped at 5 min), up to 10 attempts."""
        request = json.loads(timer.payload or "{}")
        attempt = int(request.get("attempt") or 0)
        async with self.pool.acquire() as conn:
            state = await wf_store.get(
                conn, timer.workflow_id, self.executor.definitions, include_tasks=False
            )
        delivered = True
        if state is not None:
            call = {"uri": request.get("url"), "method": "POST", "body": workflow_summary_of(state)}
            status, _output, reason = await self.http.call(call)
            delivered = status is TaskStatus.COMPLETED
            if not delivered:
                log.warning(
                    "status listener of %s, attempt %d: %s", state.workflow_id, attempt + 1, reason
                )
        async with self.pool.acquire() as conn:
            if delivered or attempt + 1 >= LISTENER_ATTEMPTS:
                await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)
                return
            delay_ms = min(1000 * 2**attempt, LISTENER_MAX_BACKOFF_MS)
            retry = json.dumps({**request, "attempt": attempt + 1})
            now = self.executor.clock.now_ms()
            await timer_store.reschedule(
                conn, timer.key, timer.claimed_fire_at, now + delay_ms, retry
            )
        self.executor.wakeups.timer_due(now + delay_ms)

    async def _loop_condition(self, timer: ClaimedTimer, loop_task: TaskState) -> None:
        async with self.pool.acquire() as conn:
            state = await wf_store.get(conn, timer.workflow_id, self.executor.definitions)
        if state is None:
            return
        loaded = state.task(loop_task.task_id) or loop_task
        script = str(loaded.workflow_task.get("loopCondition") or "")
        error: str | None = None
        proceed = False
        try:
            value = await self.sandbox.evaluate(script, loops.condition_bindings(state, loaded))
            # Conductor's evalBool: true, or a number above zero.
            proceed = value is True or (
                isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            )
        except ScriptError as exc:
            error = str(exc)
        event = LoopConditionEvaluated(
            loaded.task_id, loaded.awaiting_iteration, proceed=proceed, error=error
        )
        await self.executor.transition(timer.workflow_id, event, (timer.key, timer.claimed_fire_at))

    async def _inline(self, task: TaskState) -> tuple[TaskStatus, JSON, str | None]:
        params = task.input_data
        evaluator = params.get("evaluatorType", "javascript")
        expression = params.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            reason = "Empty 'expression' in INLINE task's input parameters."
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {"error": reason}, reason
        if evaluator == "value-param":
            return TaskStatus.COMPLETED, {"result": params.get(expression)}, None
        if evaluator not in ("javascript", "graaljs"):
            reason = f"Unknown evaluator '{evaluator}' in INLINE task."
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {"error": reason}, reason
        try:
            result: Any = await self.sandbox.evaluate(expression, params)
        except ScriptError as exc:
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {"error": str(exc)}, str(exc)
        return TaskStatus.COMPLETED, {"result": result}, None

    async def _jq(self, task: TaskState) -> tuple[TaskStatus, JSON, str | None]:
        query = task.input_data.get("queryExpression")
        if not isinstance(query, str) or not query.strip():
            reason = "Missing 'queryExpression' in input parameters"
            return TaskStatus.FAILED, {"error": reason}, reason
        try:
            values = await self.jq.transform(query, task.input_data)
        except JqError as exc:
            return TaskStatus.FAILED, {"error": str(exc)}, str(exc)
        return (
            TaskStatus.COMPLETED,
            {"result": values[0] if values else None, "resultList": values},
            None,
        )

    async def _case(
        self, task: TaskState, script: str, kind: str
    ) -> tuple[TaskStatus, JSON, str | None]:
        try:
            value = await self.sandbox.evaluate(script, task.input_data)
        except ScriptError as exc:
            return TaskStatus.FAILED, {}, str(exc)
        case = java_string(value)
        if kind == "switch":
            return TaskStatus.COMPLETED, {"evaluationResult": [case], "selectedCase": case}, None
        return TaskStatus.COMPLETED, {"caseOutput": [case]}, None


_CHILD_TO_TASK = {
    WorkflowStatus.COMPLETED: TaskStatus.COMPLETED,
    WorkflowStatus.FAILED: TaskStatus.FAILED,
    WorkflowStatus.TERMINATED: TaskStatus.CANCELED,
    WorkflowStatus.TIMED_OUT: TaskStatus.TIMED_OUT,
}


def _derived_id(kind: str, task: TaskState) -> str:
    """The same id for every launch of one task attempt (Conductor derives sub-workflow ids too)."""
    name = f"{kind}:{task.workflow_id}:{task.task_id}:{task.retry_count}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _priority(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
