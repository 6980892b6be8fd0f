"""What a finished run sets off, fired by timers written in the run's last transition: its parent
hears of it (SUBWORKFLOW_DONE), its failureWorkflow starts (FAILURE_WORKFLOW), and its summary
is POSTed to its status listener's webhook (STATUS_LISTENER).

Each is a timer due at once, so it happens after the commit and survives a crash (the failure
workflow is normally started inside the failing transaction, and its timer dropped); each is safe
to repeat (the parent ignores a second report, the failure workflow's id came with the timer,
and a webhook may see a summary twice).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from conductor.clock import Clock
from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import JSON, TaskStatus, WorkflowStatus
from conductor.errors import NotFound, PayloadTooLarge
from conductor.executor import Executor
from conductor.store import timers as timer_store
from conductor.store.timers import ClaimedTimer
from conductor.store.workflows import WorkflowStore
from conductor.timers.reschedule import TimerRescheduler
from conductor.wire.start_request import failure_workflow_start
from conductor.wire.summaries import workflow_summary

log = logging.getLogger(__name__)

LISTENER_ATTEMPTS = 10
LISTENER_MAX_BACKOFF_MS = 300_000

# POSTs a JSON body to a URL; None when it was accepted (2xx), else why not.
PostJson = Callable[[str, JSON], Awaitable[str | None]]

_CHILD_TO_TASK = {
    WorkflowStatus.COMPLETED: TaskStatus.COMPLETED,
    WorkflowStatus.FAILED: TaskStatus.FAILED,
    WorkflowStatus.TERMINATED: TaskStatus.CANCELED,
    WorkflowStatus.TIMED_OUT: TaskStatus.TIMED_OUT,
}


class WorkflowEffects:
    def __init__(
        self,
        workflows: WorkflowStore,
        executor: Executor,
        clock: Clock,
        rescheduler: TimerRescheduler,
        post_json: PostJson,
    ) -> None:
        self.workflows = workflows
        self.executor = executor
        self.clock = clock
        self.rescheduler = rescheduler
        self.post_json = post_json

    async def child_done(self, timer: ClaimedTimer) -> None:
        """Report a finished child workflow to its parent's SUB_WORKFLOW task."""
        child = await self.workflows.read(timer.payload or "", include_tasks=False)
        if child is None or not child.status.terminal:
            await self._delete(timer)
            return
        status = _CHILD_TO_TASK[child.status]
        reason = None
        if status is not TaskStatus.COMPLETED:
            reason = (
                f"Sub workflow {child.workflow_id} failure reason: {child.reason_for_incompletion}"
            )
        result = TaskResultReceived(
            timer.task_id or "",
            status,
            output={**child.output, "subWorkflowId": child.workflow_id},
            reason=reason,
        )
        await self.executor.transition(
            timer.workflow_id, result, (timer.key, timer.claimed_fire_at)
        )

    async def failure_workflow(self, timer: ClaimedTimer) -> None:
        """Start a failed run's failureWorkflow with Conductor's input, when the failing
        transition could not start it itself (executor.py). The new run's id came with the
        timer, so a second firing finds it started and does nothing."""
        request = json.loads(timer.payload or "{}")
        failed = await self.workflows.read(timer.workflow_id)
        if failed is not None:
            try:
                await self.executor.start(failure_workflow_start(failed, request))
            except (NotFound, PayloadTooLarge) as exc:  # nothing a retry would change
                log.warning("failureWorkflow of %s not started: %s", failed.workflow_id, exc)
        await self._delete(timer)

    async def notify_listener(self, timer: ClaimedTimer) -> None:
        """POST the finished run's summary to its webhook; on an error or a non-2xx answer try
        again with exponential back-off (1 s, 2 s, ... capped at 5 min), up to 10 attempts."""
        request = json.loads(timer.payload or "{}")
        attempt = int(request.get("attempt") or 0)
        state = await self.workflows.read(timer.workflow_id, include_tasks=False)
        delivered = True
        if state is not None:
            problem = await self.post_json(str(request.get("url") or ""), workflow_summary(state))
            delivered = problem is None
            if not delivered:
                log.warning(
                    "status listener of %s, attempt %d: %s", state.workflow_id, attempt + 1, problem
                )
        if delivered or attempt + 1 >= LISTENER_ATTEMPTS:
            await self._delete(timer)
            return
        retry_at = self.clock.now_ms() + min(1000 * 2**attempt, LISTENER_MAX_BACKOFF_MS)
        retry = json.dumps({**request, "attempt": attempt + 1})
        await self.rescheduler.later(timer, retry_at, retry)

    async def _delete(self, timer: ClaimedTimer) -> None:
        async with self.workflows.pool.acquire() as conn:
            await timer_store.delete_fired(conn, timer.key, timer.claimed_fire_at)
