"""Runs the system tasks the decider defers, then reports their result as a transition.

The decider schedules such a task with a SYSTEM_TASK timer due at once, so the work is durable:
the timer service hands the timer here, the task's runtime (engine/task_types.py) does the work
in the task's lane (services/lanes.py), and the result goes through the normal transition path,
which also deletes the timer. If the server dies in between, the timer fires again after its
lease and the work runs again: every runtime is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from conductor.engine.inputs import Input, TaskResultReceived
from conductor.engine.model import TaskState, TaskStatus
from conductor.engine.task_starts import async_complete
from conductor.engine.task_types import Lane, Runtime, spec_of
from conductor.executor import Executor
from conductor.services.http_task import HttpTaskClient
from conductor.services.lanes import Lanes, lane_of
from conductor.services.launches import Launches
from conductor.services.script_runtimes import ScriptRuntimes
from conductor.store import tasks as task_store
from conductor.store import timers as timer_store
from conductor.store.storable import unstorable_part
from conductor.store.timers import ClaimedTimer

# Does a task's work and gives the decider input that reports it (None: nothing to report).
RuntimeHandler = Callable[[TaskState], Awaitable[Input | None]]


def runtime_handlers(
    scripts: ScriptRuntimes, launches: Launches, http: HttpTaskClient
) -> dict[Runtime, RuntimeHandler]:
    """The handler of every runtime in engine/task_types.py."""
    return {
        Runtime.SCRIPT: scripts.inline,
        Runtime.CASE_SCRIPT: scripts.case,
        Runtime.LOOP_CONDITION: scripts.loop_condition,
        Runtime.JQ: scripts.jq_transform,
        Runtime.HTTP: http.run,
        Runtime.SUB_WORKFLOW: launches.sub_workflow,
        Runtime.START_WORKFLOW: launches.start_workflow,
    }


def _waiting(task: TaskState) -> bool:
    """An asyncComplete task that has done its work and waits for an external update: never run
    again (Conductor drops such a task from the system-task queue once it has left SCHEDULED)."""
    return task.status is not TaskStatus.SCHEDULED and async_complete(task)


class SystemTaskRunner:
    def __init__(
        self, executor: Executor, lanes: Lanes, handlers: dict[Runtime, RuntimeHandler]
    ) -> None:
        missing = set(Runtime) - set(handlers)
        if missing:
            raise ValueError(f"no handler for runtimes {sorted(missing)}")
        self.executor = executor
        self.lanes = lanes
        self.handlers = handlers

    async def run(self, timer: ClaimedTimer) -> None:
        """The SYSTEM_TASK timer's handler."""
        async with self.lanes.local:
            task = await self._load(timer)
            if task is None:
                return
            if spec_of(task.workflow_task).lane is not Lane.ISOLATED:
                await self._execute(timer, task)
                return
        await self.lanes.isolated(
            timer, lane_of(task), lambda waited: self._execute_current(timer, task, waited)
        )

    async def _execute_current(self, timer: ClaimedTimer, task: TaskState, waited: bool) -> None:
        """Run a task; one that waited for its lane is read again, and skipped if it ended."""
        current: TaskState | None = task
        if waited:
            async with self.lanes.local:
                current = await self._load(timer)
        if current is not None:
            await self._execute(timer, current)

    async def _load(self, timer: ClaimedTimer) -> TaskState | None:
        async with self.executor.pool.acquire() as conn:
            stored = await task_store.get(conn, timer.task_id or "")
            if stored is None or stored.task.status.terminal or _waiting(stored.task):
                await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)
                return None
        return stored.task

    async def _execute(self, timer: ClaimedTimer, task: TaskState) -> None:
        runtime = spec_of(task.workflow_task).runtime
        if runtime is None:
            reason = f"Cannot run task type {task.workflow_task.get('type')}"
            result: Input | None = TaskResultReceived(
                task.task_id, TaskStatus.FAILED_WITH_TERMINAL_ERROR, output={}, reason=reason
            )
        else:
            result = await self.handlers[runtime](task)
        if isinstance(result, TaskResultReceived):
            result = _storable(result)
        if result is not None:
            await self.executor.transition(
                timer.workflow_id, result, (timer.key, timer.claimed_fire_at)
            )


def _storable(result: TaskResultReceived) -> TaskResultReceived:
    """A result whose output cannot be stored ends its task with the reason, at once: left to
    fail on every save, its timer would retry it forever and the workflow would never move."""
    problem = unstorable_part(result.output, "outputData")
    if problem is None:
        if result.reason is not None and "\x00" in result.reason:
            return replace(result, reason=result.reason.replace("\x00", "\\u0000"))
        return result
    where, what = problem
    return TaskResultReceived(
        result.task_id,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        output={},
        reason=f"The task's output cannot be stored: {where} {what}",
    )
