"""Task attempts from WorkflowTask nodes: ids, resolved input, queue row, delay and timers."""

from __future__ import annotations

from conductor.engine.decision import (
    DecideContext,
    Decision,
    QueuePush,
    TimerKind,
    timer_key,
)
from conductor.engine.definitions import pick_domain, queue_name
from conductor.engine.model import (
    JSON,
    TaskState,
    TaskStatus,
    TaskType,
    WorkflowState,
    loop_ref,
    task_type_of,
)
from conductor.engine.task_types import TASK_TYPES, spec_of
from conductor.engine.templates import resolve_task_input
from conductor.engine.timeouts import total_timeout_at


def new_task(
    state: WorkflowState,
    workflow_task: JSON,
    ctx: DecideContext,
    doc: JSON,
    *,
    retry_of: TaskState | None = None,
    delay_seconds: int = 0,
    iteration: int = 0,
) -> TaskState:
    """A SCHEDULED attempt for `workflow_task` (a fresh one, or the retry of `retry_of`)."""
    task_id = ctx.new_id()
    task_def = workflow_task.get("taskDefinition")
    template = task_def.get("inputTemplate") if isinstance(task_def, dict) else None
    input_data = resolve_task_input(
        workflow_task.get("inputParameters") or {},
        template if isinstance(template, dict) else None,
        doc,
        task_id,
    )
    kind = task_type_of(workflow_task)
    spec = TASK_TYPES.get(kind) or spec_of(workflow_task)
    name = str(workflow_task.get("name", ""))
    worker = spec.worker
    # A SIMPLE task's queue is its name; another worker type's is the type's own name.
    task_type = name if kind == TaskType.SIMPLE else spec.task_type or kind
    if spec.named_by_type:
        name = task_type
    domain = pick_domain(state.task_to_domain, name, ctx.active_queues) if worker else None
    ref = loop_ref(str(workflow_task.get("taskReferenceName", "")), iteration)
    seq = max((t.seq for t in state.tasks), default=0) + 1
    task = TaskState(
        task_id=task_id,
        workflow_id=state.workflow_id,
        task_type=task_type,
        task_def_name=name,
        ref_name=retry_of.ref_name if retry_of else ref,
        seq=seq,
        workflow_task=workflow_task,
        status=TaskStatus.SCHEDULED,
        retry_count=retry_of.retry_count + 1 if retry_of else 0,
        input_data=input_data,
        scheduled_time=ctx.now,
        update_time=ctx.now,
        first_scheduled_time=retry_of.first_scheduled_time if retry_of else ctx.now,
        start_delay_seconds=delay_seconds,
        callback_after_seconds=delay_seconds,
        reason_for_incompletion=retry_of.reason_for_incompletion if retry_of else None,
        retried_task_id=retry_of.task_id if retry_of else None,
        domain=domain,
        queue_name=queue_name(task_type, domain) if worker else None,
        iteration=retry_of.iteration if retry_of else iteration,
    )
    task.response_timeout_seconds = task.settings.response_timeout_seconds
    return task


def schedule(
    state: WorkflowState,
    task: TaskState,
    decision: Decision,
    ctx: DecideContext,
    jitter_ms: int = 0,
) -> None:
    """Add the task to the workflow and write its queue row and timers."""
    state.tasks.append(task)
    decision.new_tasks.append(task)
    if task.queue_name is None:
        return
    visible_at = ctx.now + task.start_delay_seconds * 1000 + jitter_ms
    _push(state, task, task.queue_name, decision, ctx, visible_at)
    poll_timeout = task.settings.poll_timeout_seconds
    if poll_timeout > 0:
        fire_at = visible_at + poll_timeout * 1000
        decision.arm(TimerKind.POLL_TIMEOUT, state.workflow_id, task.task_id, fire_at)
    total_at = total_timeout_at(task)
    if total_at is not None:
        decision.arm(TimerKind.TOTAL_TIMEOUT, state.workflow_id, task.task_id, total_at)


def requeue(
    state: WorkflowState, task: TaskState, decision: Decision, ctx: DecideContext, delay_s: int
) -> None:
    """Put an IN_PROGRESS worker task back in its queue after `delay_s` (callbackAfterSeconds)."""
    if task.queue_name is None:
        return
    task.status = TaskStatus.SCHEDULED
    task.callback_after_seconds = delay_s
    decision.cleared_timer_keys.append(timer_key(TimerKind.RESPONSE_TIMEOUT, task.task_id))
    _push(state, task, task.queue_name, decision, ctx, ctx.now + delay_s * 1000)


def _push(
    state: WorkflowState,
    task: TaskState,
    queue: str,
    decision: Decision,
    ctx: DecideContext,
    visible_at: int,
) -> None:
    """Put the task in its queue, pollable from `visible_at`: a later time also needs a timer
    that wakes the queue's long-polls then."""
    decision.pushes.append(QueuePush(task.task_id, queue, state.priority, visible_at))
    if visible_at > ctx.now:
        decision.arm(TimerKind.QUEUE_VISIBLE, state.workflow_id, task.task_id, visible_at, queue)
