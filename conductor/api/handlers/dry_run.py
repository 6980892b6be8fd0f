"""POST /api/workflow/test: run a workflow with mocked task results (Conductor's test endpoint).

The run is real (stored like any other): worker tasks (and WAIT/HUMAN tasks) whose reference has
mocks in `taskRefToMockOutput` (a loop iteration's own reference, `ref__1`, as in Conductor, or
the reference in the definition for every iteration) are completed with the next mock in their
list as soon as they are scheduled, one mock per attempt, so a list of FAILED then COMPLETED
exercises a retry. System tasks run as usual. The answer is the Workflow once it has ended, or
once nothing more happens without a mock (a task with no mock left waits, as it would for a
worker), or after `waitSeconds`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.handlers.workflows import parse_start_request
from conductor.api.keys import EXECUTOR, WAKEUPS, WORKFLOWS
from conductor.api.permissions import requires
from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import (
    RESULT_STATUSES,
    TaskState,
    TaskStatus,
    TaskType,
    WorkflowState,
    base_ref,
)
from conductor.errors import FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.wakeups import wait_for
from conductor.wire.render import workflow_json

_MOCKABLE_SYSTEM_TYPES = (TaskType.WAIT, TaskType.HUMAN)
_QUIET_S = 0.2  # nothing changed for this long (and nothing left to mock): the run is idle
_DEFAULT_WAIT_S = 10


@requires(Permission.OPERATE)
async def run_with_mocks(request: web.Request) -> web.Response:
    body = await rq.json_object(request, "workflowTestRequest")
    mocks = _mocks(body.get("taskRefToMockOutput"))
    wait_s = rq.query_int(request, "waitSeconds", _DEFAULT_WAIT_S, minimum=1) or _DEFAULT_WAIT_S
    start = await parse_start_request(request.app, body)
    executor = request.app[EXECUTOR]
    state = await executor.start(start)
    used: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        changed = request.app[WAKEUPS].workflows.waiter(state.workflow_id)
        state = await _load(request, state.workflow_id)
        if state.status.terminal:
            break
        pending = [
            (t, ref)
            for t in state.tasks
            if _mockable(t) and used[ref := _mock_key(t, mocks)] < len(mocks.get(ref, []))
        ]
        for task, ref in pending:
            mock = mocks[ref][used[ref]]
            used[ref] += 1
            event = TaskResultReceived(task.task_id, mock["status"], output=mock["output"])
            await executor.transition(state.workflow_id, event)
        if pending:
            continue
        if not await wait_for(changed, min(_QUIET_S, max(deadline - loop.time(), 0))):
            break  # idle: only unmocked tasks (or timers far ahead) remain
    return rq.json_response(workflow_json(state))


def _mock_key(task: TaskState, mocks: dict[str, list[dict[str, Any]]]) -> str:
    """The mocks for a task: those under its own reference (`ref__2` for a loop's second
    iteration, as Conductor keys them), else those under the reference in the definition."""
    return task.ref_name if task.ref_name in mocks else base_ref(task.ref_name)


def _mockable(task: TaskState) -> bool:
    if task.status not in (TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS):
        return False
    return task.queue_name is not None or task.task_type in _MOCKABLE_SYSTEM_TYPES


def _mocks(raw: Any) -> dict[str, list[dict[str, Any]]]:
    path = "workflowTestRequest.taskRefToMockOutput"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError(path, "must map task references to lists of mocks")])
    mocks: dict[str, list[dict[str, Any]]] = {}
    for ref, entries in raw.items():
        if not isinstance(entries, list):
            raise ValidationFailed([FieldError(f"{path}.{ref}", "must be a list of mocks")])
        parsed = []
        for i, entry in enumerate(entries):
            where = f"{path}.{ref}[{i}]"
            if not isinstance(entry, dict):
                raise ValidationFailed([FieldError(where, "must be an object")])
            status_text = str(entry.get("status") or "COMPLETED").upper()
            try:
                status = TaskStatus(status_text)
            except ValueError:
                status = None
            if status is None or status not in RESULT_STATUSES or not status.terminal:
                raise ValidationFailed(
                    [FieldError(f"{where}.status", "must be a terminal task result status")]
                )
            output = entry.get("output") or {}
            if not isinstance(output, dict):
                raise ValidationFailed([FieldError(f"{where}.output", "must be an object")])
            parsed.append({"status": status, "output": output})
        mocks[str(ref)] = parsed
    return mocks


async def _load(request: web.Request, workflow_id: str) -> WorkflowState:
    state = await request.app[WORKFLOWS].read(workflow_id)
    if state is None:
        raise NotFound(f"Workflow with id: {workflow_id} not found.")
    return state


def routes() -> list[web.RouteDef]:
    """Registered before POST /api/workflow/{name}, which would take `test` for a name."""
    return [web.post("/api/workflow/test", run_with_mocks)]
