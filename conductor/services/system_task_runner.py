"""Runs the system tasks the decider defers (scripts), then reports their result as a transition.

The decider schedules such a task with a SYSTEM_TASK timer due at once, so the work is durable:
the timer service hands the timer here, the task runs (off the event loop, in the sandbox), and
its result goes through the normal transition path, which also deletes the timer. If the server
dies in between, the timer fires again after its lease and the task runs again; scripts are
pure functions of their input, so running one twice is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from conductor.engine import loops
from conductor.engine.events import LoopConditionEvaluated, TaskResultReceived
from conductor.engine.model import JSON, TaskState, TaskStatus
from conductor.engine.templates import java_string
from conductor.executor import Executor
from conductor.services.http_task import HttpTaskClient
from conductor.services.jq_runner import JqError, JqRunner
from conductor.services.scripts import ScriptError, ScriptSandbox
from conductor.store import tasks as task_store
from conductor.store import timers as timer_store
from conductor.store import workflows as wf_store
from conductor.store.rows import task_from_row
from conductor.store.timers import ClaimedTimer

log = logging.getLogger(__name__)


class SystemTaskRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        executor: Executor,
        sandbox: ScriptSandbox,
        jq: JqRunner,
        http: HttpTaskClient,
    ) -> None:
        self.pool = pool
        self.executor = executor
        self.sandbox = sandbox
        self.jq = jq
        self.http = http

    async def run(self, timer: ClaimedTimer) -> None:
        task = await self._load(timer)
        if task is None:
            return
        if task.task_type == "DO_WHILE":
            await self._loop_condition(timer, task)
            return
        status, output, reason = await self.execute(task)
        event = TaskResultReceived(task.task_id, status, output=output, reason=reason)
        await self.executor.transition(timer.workflow_id, event, (timer.key, timer.claimed_fire_at))

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
        return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, f"Cannot run task type {kind}"

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
