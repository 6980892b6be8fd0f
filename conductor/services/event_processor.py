"""Event handlers at work: messages on the `conductor` queues run the matching handlers' actions.

A handler may name any event, as in Conductor (`sqs:orders`, `kafka:topic`, ...): it is stored
and listed like the others, but only events of a queue type consumed here (`consumed_here`) ever
have messages, so the others never run. The UI marks them and `update_gauges` counts the active
ones for /metrics.

Messages come from EVENT tasks, written in the same transaction that completed the task (an
outbox), and from publishes to the default queues (services/notify_queues.py), which complete or
fail the task a message names instead of running handlers. The processor takes the oldest
messages under a row lock (SKIP LOCKED, so servers share them), runs each active handler of the
message's queue whose condition holds, and deletes the messages when done. Actions are
idempotent, so a crash in between only repeats them:
`start_workflow` starts a run whose id is derived from the message, the handler and the action;
task updates and terminations of something already finished change nothing; setting variables
again sets the same values (only `appendArray` would append a second time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from conductor.background import BackgroundService
from conductor.engine.inputs import TaskResultReceived, TerminateWorkflow, UpdateVariables
from conductor.engine.model import JSON, TaskStatus
from conductor.engine.templates import resolve
from conductor.errors import ConductorError
from conductor.executor import Executor
from conductor.metrics import Metrics
from conductor.services import notify_queues
from conductor.services.scripts import ScriptError, ScriptSandbox
from conductor.store import events as store
from conductor.store.values import QueuedMessage
from conductor.store.workflows import WorkflowStore
from conductor.wakeups import Wakeups
from conductor.wire.start_request import start_request

log = logging.getLogger(__name__)

# Event handler actions this server runs.
ACTIONS = (
    "start_workflow",
    "complete_task",
    "fail_task",
    "terminate_workflow",
    "update_workflow_variables",
)
_RUN_IDS = uuid.UUID("6f1d2a3e-8c4b-4e5f-9a0b-1c2d3e4f5a6b")
# Queue types (an event's prefix before its first colon) whose messages this server consumes.
CONSUMED_QUEUE_TYPES = ("conductor",)


def consumed_here(event: str) -> bool:
    """Whether messages for this event reach this server's processor: `type:queue` with a type
    it consumes. (Conductor resolves an event the same way, EventQueues.getQueue, and for a type
    without a provider logs the error and listens to nothing.)"""
    kind, colon, _queue = event.partition(":")
    return bool(colon) and kind in CONSUMED_QUEUE_TYPES


_ACTIONS = frozenset(
    {
        "start_workflow",
        "complete_task",
        "fail_task",
        "terminate_workflow",
        "update_workflow_variables",
    }
)


def _action_label(kind: object) -> str:
    """An action name as a metric label: the known ones, or "other" (labels stay bounded)."""
    return kind if isinstance(kind, str) and kind in _ACTIONS else "other"


class EventProcessor(BackgroundService):
    name = "event-processor"

    def __init__(
        self,
        workflows: WorkflowStore,
        executor: Executor,
        sandbox: ScriptSandbox,
        wakeups: Wakeups,
        metrics: Metrics | None = None,
        *,
        batch: int = 50,
        idle_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.metrics = metrics or Metrics()
        self.pool = workflows.pool
        self.workflows = workflows
        self.executor = executor
        self.sandbox = sandbox
        self.wakeups = wakeups
        self.batch = batch
        self.idle_s = idle_s

    async def run_once(self) -> int:
        """Handle one batch of messages; returns how many were taken."""
        async with self.pool.acquire() as conn, conn.transaction():
            messages = await store.claim_messages(conn, self.batch)
            handlers: dict[str, list[JSON]] = {}
            for message in messages:
                queue = message.queue
                if queue in notify_queues.STATUS_OF_QUEUE:
                    status = notify_queues.STATUS_OF_QUEUE[queue]
                    await self._notify(status, message.payload, message.created_time)
                if queue not in handlers:
                    found = await store.handlers_for(conn, queue) if consumed_here(queue) else []
                    handlers[queue] = found
                for handler in handlers[queue]:
                    await self._handle(handler, message)
            if messages:
                await store.delete_messages(conn, [m.id for m in messages])
        for message in messages:  # after the commit: a rolled-back batch is handled again
            self.metrics.event_messages.labels(message.queue.partition(":")[0]).inc()
        return len(messages)

    async def step(self) -> float:
        self.wakeups.event_messages.clear()
        if await self.run_once() < self.batch:  # nothing more waits: until a message is written
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeups.event_messages.wait(), self.idle_s)
        return 0

    def stop(self) -> None:
        super().stop()
        self.wakeups.event_messages.set()

    async def update_gauges(self) -> None:
        """Active handlers whose event no consumer here reads, for /metrics (run now and then)."""
        async with self.pool.acquire() as conn:
            count = await store.count_active_not_consumed(conn, list(CONSUMED_QUEUE_TYPES))
        self.metrics.event_handlers_without_consumer.set(count)

    async def _handle(self, handler: JSON, message: QueuedMessage) -> None:
        payload: JSON = message.payload if isinstance(message.payload, dict) else {}
        if not await self._condition_holds(handler, payload):
            return
        for index, action in enumerate(handler.get("actions") or []):
            kind = action.get("action")
            params = resolve(action.get(kind) or {}, payload)
            try:
                await self._act(kind, params, f"{message.message_id}:{handler['name']}:{index}")
            except ConductorError as exc:  # e.g. the task or workflow is gone: nothing to redo
                log.info("event handler %s, action %s: %s", handler["name"], kind, exc.message)
                self.metrics.event_actions.labels(_action_label(kind), "failed").inc()
            else:
                self.metrics.event_actions.labels(_action_label(kind), "ok").inc()

    async def _notify(self, status: TaskStatus, payload: Any, published_at: int) -> None:
        """A default-queue message: complete or fail the task it names (merging the message
        into the task's output, as Conductor does). Bad or stale messages are dropped."""
        named = notify_queues.target(payload) if isinstance(payload, dict) else None
        if named is None:
            log.warning("dropped a message without a usable externalId: %s", payload)
            return
        workflow_id, task_id, ref = named
        state = await self.workflows.read(workflow_id)
        task = None
        if state is not None:
            task = state.pending_task(task_id=task_id, ref=ref, scheduled_by=published_at)
        if task is None:
            log.info("no waiting task for %s (task %s, reference %s)", workflow_id, task_id, ref)
            return
        event = TaskResultReceived(task.task_id, status, output={**task.output_data, **payload})
        try:
            await self.executor.transition(workflow_id, event)
        except ConductorError as exc:
            log.info("default queue update of %s: %s", workflow_id, exc.message)

    async def _condition_holds(self, handler: JSON, payload: JSON) -> bool:
        condition = handler.get("condition")
        if not isinstance(condition, str) or not condition.strip():
            return True
        try:
            return bool(await self.sandbox.evaluate(condition, payload))
        except ScriptError as exc:
            log.warning("event handler %s: condition failed: %s", handler.get("name"), exc)
            return False

    async def _act(self, kind: str, params: Any, action_id: str) -> None:
        if not isinstance(params, dict):
            return
        if kind == "start_workflow":
            run_id = str(uuid.uuid5(_RUN_IDS, action_id))
            await self.executor.start(start_request(params, workflow_id=run_id))
        elif kind in ("complete_task", "fail_task"):
            await self._update_task(kind, params)
        elif kind == "terminate_workflow":
            await self.executor.transition(
                str(params.get("workflowId")),
                TerminateWorkflow(params.get("terminationReason")),
            )
        elif kind == "update_workflow_variables":
            variables = params.get("variables")
            if isinstance(variables, dict):
                event = UpdateVariables(variables, bool(params.get("appendArray")))
                await self.executor.transition(str(params.get("workflowId")), event)

    async def _update_task(self, kind: str, params: JSON) -> None:
        workflow_id = str(params.get("workflowId"))
        state = await self.workflows.read(workflow_id)
        task_id, ref = params.get("taskId"), params.get("taskRefName")
        task = None
        if state is not None and (task_id or ref):
            task = state.pending_task(task_id=task_id or None, ref=None if task_id else ref)
        if task is None:
            return
        status = TaskStatus.COMPLETED if kind == "complete_task" else TaskStatus.FAILED
        result = TaskResultReceived(
            task.task_id,
            status,
            output=dict(params.get("output") or {}),
            reason=params.get("reasonForIncompletion"),
        )
        await self.executor.transition(workflow_id, result)
