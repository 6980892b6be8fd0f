"""Where a run is blocked, and holding a request until it blocks (sync execute and signals).

Conductor's synchronous answers wait until the target run ends or something in it (or in a running
sub-workflow, at any depth) blocks: a WAIT that only an external update can end, or a task named
in `waitUntilTaskRef` that has ended. What they answer depends on the caller's return strategy
(wire/render.py draws the shapes).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import WAKEUPS, WORKFLOWS
from conductor.engine.model import JSON, TaskState, TaskType, WorkflowState
from conductor.errors import FieldError, NotFound, ValidationFailed
from conductor.wakeups import wait_for
from conductor.wire.render import task_run_json, workflow_run_json

# Re-read at least this often: sub-workflows and other server processes do not wake the waiter.
_RECHECK_S = 0.1

LoadWorkflow = Callable[[str], Awaitable[WorkflowState | None]]


class ReturnStrategy(enum.StrEnum):
    TARGET_WORKFLOW = "TARGET_WORKFLOW"
    BLOCKING_WORKFLOW = "BLOCKING_WORKFLOW"
    BLOCKING_TASK = "BLOCKING_TASK"
    BLOCKING_TASK_INPUT = "BLOCKING_TASK_INPUT"


def return_strategy(request: web.Request) -> ReturnStrategy:
    given = rq.query_str(request, "returnStrategy") or ReturnStrategy.TARGET_WORKFLOW.value
    try:
        return ReturnStrategy(given)
    except ValueError:
        allowed = ", ".join(s.value for s in ReturnStrategy)
        raise ValidationFailed(
            [FieldError("returnStrategy", f"must be one of {allowed}", given)]
        ) from None


@dataclass
class Blocked:
    """What holds up a run: the tasks, and the (sub-)workflow the first of them belongs to."""

    tasks: list[TaskState] = field(default_factory=list)
    workflow: WorkflowState | None = None


@dataclass
class Settled:
    target: WorkflowState
    blocked: Blocked
    timed_out: bool


def waits_for_signal(task: TaskState) -> bool:
    """A WAIT with no duration or deadline: only an update from outside ends it."""
    return task.task_type == TaskType.WAIT and not task.status.terminal and not task.wait_until


def _running_child_id(task: TaskState) -> str | None:
    if task.task_type != TaskType.SUB_WORKFLOW or task.status.terminal:
        return None
    child = task.output_data.get("subWorkflowId")
    return child if isinstance(child, str) and child else None


async def find_blocked(load: LoadWorkflow, state: WorkflowState, refs: Collection[str]) -> Blocked:
    """Blocking tasks of a run and of its running sub-workflows, in task order, depth first."""
    found = Blocked()
    for task in state.tasks:
        if waits_for_signal(task) or (task.ref_name in refs and task.status.terminal):
            found.tasks.append(task)
            found.workflow = found.workflow or state
        child_id = _running_child_id(task)
        child = await load(child_id) if child_id else None
        if child is not None:
            below = await find_blocked(load, child, refs)
            found.tasks.extend(below.tasks)
            found.workflow = found.workflow or below.workflow
    return found


async def find_signal_target(load: LoadWorkflow, workflow_id: str) -> TaskState | None:
    """The task a signal completes: the run's first unended WAIT, else one in a running
    sub-workflow (searched in task order), as Conductor's TaskService.signalTask picks it."""
    state = await load(workflow_id)
    if state is None:
        return None
    for task in state.tasks:
        if task.task_type == TaskType.WAIT and not task.status.terminal:
            return task
    for task in state.tasks:
        child_id = _running_child_id(task)
        found = await find_signal_target(load, child_id) if child_id else None
        if found is not None:
            return found
    return None


def loader(app: web.Application) -> LoadWorkflow:
    async def load(workflow_id: str) -> WorkflowState | None:
        return await app[WORKFLOWS].read(workflow_id, True)

    return load


async def await_settled(
    app: web.Application, workflow_id: str, refs: Collection[str], timeout_s: float
) -> Settled:
    """Hold until the run ends or blocks, or `timeout_s` passes (then: its state as it is)."""
    load = loader(app)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        # Taken before the read, so a commit between the read and the wait is not missed.
        changed = app[WAKEUPS].workflows.waiter(workflow_id)
        state = await load(workflow_id)
        if state is None:
            raise NotFound(f"Workflow with id: {workflow_id} not found.")
        blocked = await find_blocked(load, state, refs)
        if state.status.terminal or blocked.tasks:
            return Settled(state, blocked, timed_out=False)
        remaining = deadline - loop.time()
        if remaining <= 0:
            return Settled(state, Blocked(), timed_out=True)
        await wait_for(changed, min(remaining, _RECHECK_S))


def signal_response(strategy: ReturnStrategy, settled: Settled, request_id: str) -> JSON:
    """The SignalResponse for `strategy`. With nothing blocking (the run ended, or time ran out)
    a task strategy has no task to show; Conductor then fails with a 500, so we answer the
    target run, marked TARGET_WORKFLOW so a client reading `responseType` knows what it got."""
    target, blocked = settled.target, settled.blocked
    timed_out = settled.timed_out
    if strategy in (ReturnStrategy.BLOCKING_TASK, ReturnStrategy.BLOCKING_TASK_INPUT):
        if blocked.tasks and blocked.workflow is not None:
            return task_run_json(
                blocked.tasks[0], blocked.workflow, target, strategy.value, request_id, timed_out
            )
        strategy = ReturnStrategy.TARGET_WORKFLOW
    shown = target
    if strategy is ReturnStrategy.BLOCKING_WORKFLOW and blocked.workflow is not None:
        shown = blocked.workflow
    return workflow_run_json(shown, target, strategy.value, request_id, timed_out)
