"""/api/tasks: long-polled single and batch polls, results (v1, v2, by reference), logs, queues."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from conductor.api import blocking
from conductor.api import requests as rq
from conductor.api.auth import check_task_scope, principal_of
from conductor.api.keys import CLOCK, EXECUTOR, METRICS, POLLER, POOL, RESULTS, WAKEUPS, WORKFLOWS
from conductor.api.longpoll import MAX_POLL_TIMEOUT_MS
from conductor.api.permissions import requires
from conductor.engine.definitions import queue_name
from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import RESULT_STATUSES, TaskState, TaskStatus
from conductor.errors import BadRequest, FieldError, NotFound, ValidationFailed
from conductor.roles import Permission
from conductor.store import tasks as store
from conductor.wire.render import stored_task_json, workflow_json

_SINGLE_POLL_WAIT_MS = 100


def parse_task_result(body: dict[str, Any]) -> tuple[str, TaskResultReceived]:
    """(workflow id, event) from a TaskResult body; 400 on anything malformed."""
    path = "taskResult"
    for key, kind in (
        ("workflowInstanceId", str),
        ("taskId", str),
        ("status", str),
        ("outputData", dict),
        ("reasonForIncompletion", str),
        ("callbackAfterSeconds", int),
        ("workerId", str),
        ("logs", list),
        ("extendLease", bool),
    ):
        rq.check_type(body, key, kind, path)
    errors = [
        FieldError(f"{path}.{key}", f"{key} cannot be null or empty")
        for key in ("workflowInstanceId", "taskId")
        if not body.get(key)
    ]
    extend = bool(body.get("extendLease"))
    status_text = str(body.get("status") or ("IN_PROGRESS" if extend else ""))
    if status_text not in {s.value for s in RESULT_STATUSES}:
        errors.append(
            FieldError(f"{path}.status", "status must be a valid task result status", status_text)
        )
    if errors:
        raise ValidationFailed(errors)
    logs = [_log_text(entry) for entry in body.get("logs") or []]
    event = TaskResultReceived(
        task_id=body["taskId"],
        status=TaskStatus(status_text),
        output=body.get("outputData"),
        reason=body.get("reasonForIncompletion"),
        callback_after_seconds=max(int(body.get("callbackAfterSeconds") or 0), 0),
        worker_id=body.get("workerId"),
        extend_lease=extend,
        logs=[line for line in logs if line],
    )
    return str(body["workflowInstanceId"]), event


async def _read_task_result(request: web.Request) -> tuple[str, TaskResultReceived]:
    workflow_id, event = parse_task_result(await rq.json_object(request, "taskResult"))
    await _check_scope_of_task(request, event.task_id)
    request.app[METRICS].task_updates.labels(event.status.value).inc()
    return workflow_id, event


async def _check_scope_of_task(request: web.Request, task_id: str) -> None:
    """For keys limited to some task types or domains: one read to learn the task's."""
    principal = principal_of(request)
    if principal is None or not principal.scoped:
        return
    async with request.app[POOL].acquire() as conn:
        stored = await store.get(conn, task_id)
    if stored is not None:
        check_task_scope(request, stored.task.task_type, stored.task.domain)


def _log_text(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("log") or "")
    return str(entry) if entry is not None else ""


def _poll_args(request: web.Request) -> tuple[str, str | None, str | None]:
    task_type, domain = request.match_info["task_type"], rq.query_str(request, "domain")
    check_task_scope(request, task_type, domain)
    return task_type, rq.query_str(request, "workerid"), domain


def _hung_up(request: web.Request) -> Callable[[], bool]:
    """Whether the client of `request` has closed its connection (aiohttp drops the
    transport when the connection is lost)."""

    def gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    return gone


@requires(Permission.WORK)
async def poll_one(request: web.Request) -> web.Response:
    task_type, worker_id, domain = _poll_args(request)
    claimed = await request.app[POLLER].poll(
        task_type, worker_id, domain, 1, _SINGLE_POLL_WAIT_MS, _hung_up(request)
    )
    if not claimed:
        return rq.empty(204)
    return rq.json_response(stored_task_json(claimed[0]))


@requires(Permission.WORK)
async def poll_batch(request: web.Request) -> web.Response:
    task_type, worker_id, domain = _poll_args(request)
    count = rq.query_int(request, "count", 1, minimum=1) or 1
    timeout = rq.query_int(request, "timeout", 100, minimum=0)
    assert timeout is not None
    if timeout > MAX_POLL_TIMEOUT_MS:
        raise BadRequest("Long Poll Timeout value cannot be more than 5 seconds")
    claimed = await request.app[POLLER].poll(
        task_type, worker_id, domain, min(count, 1000), timeout, _hung_up(request)
    )
    return rq.json_response([stored_task_json(stored) for stored in claimed])


@requires(Permission.WORK)
async def update_task(request: web.Request) -> web.Response:
    workflow_id, event = await _read_task_result(request)
    await request.app[RESULTS].apply(workflow_id, event)
    return rq.text(event.task_id)


@requires(Permission.WORK)
async def update_task_v2(request: web.Request) -> web.Response:
    """Apply a result, then hand the same worker its next task of that type, if one is ready."""
    workflow_id, event = await _read_task_result(request)
    result = await request.app[RESULTS].apply(
        workflow_id, event, claim_next_for=event.worker_id or ""
    )
    if not result.claimed:
        return rq.empty(204)
    task = result.state.task(event.task_id)
    assert task is not None
    request.app[POLLER].note_claimed(task.task_type, task.queue_name, task.domain, result.claimed)
    return rq.json_response(stored_task_json(result.claimed[0]))


def _result_status(request: web.Request) -> TaskStatus:
    status_text = request.match_info["status"]
    if status_text not in {s.value for s in RESULT_STATUSES}:
        raise BadRequest(f"Invalid task status: {status_text}")
    return TaskStatus(status_text)


async def _complete_from_outside(
    request: web.Request, task: TaskState, status: TaskStatus, output: dict[str, Any]
) -> None:
    """Apply a result to a task found by reference or by signal (not by a worker's poll)."""
    check_task_scope(request, task.task_type, task.domain)
    event = TaskResultReceived(
        task_id=task.task_id,
        status=status,
        output=output,
        worker_id=rq.query_str(request, "workerid"),
    )
    await request.app[EXECUTOR].transition(task.workflow_id, event)


async def _pending_by_reference(request: web.Request) -> tuple[TaskState | None, dict[str, Any]]:
    workflow_id = request.match_info["workflow_id"]
    output = await rq.json_object(request, "output", required=False)
    state = await request.app[WORKFLOWS].read(workflow_id)
    if state is None:
        raise NotFound(f"Workflow with id: {workflow_id} not found.")
    return state.pending_task(ref=request.match_info["ref"]), output


# Audited: besides workers, operators use it to complete HUMAN and WAIT tasks (the UI does).
@requires(Permission.WORK, audited=True)
async def update_by_reference(request: web.Request) -> web.Response:
    status = _result_status(request)
    task, output = await _pending_by_reference(request)
    if task is None:
        return rq.text("")
    await _complete_from_outside(request, task, status, output)
    return rq.text(task.task_id)


@requires(Permission.WORK, audited=True)
async def update_by_reference_sync(request: web.Request) -> web.Response:
    """As update_by_reference, answering the run (with its tasks) after the update."""
    status = _result_status(request)
    task, output = await _pending_by_reference(request)
    if task is None:
        raise NotFound(
            f"Found no running task {request.match_info['ref']} of workflow "
            f"{request.match_info['workflow_id']} to update"
        )
    await _complete_from_outside(request, task, status, output)
    state = await request.app[WORKFLOWS].read(task.workflow_id, True)
    if state is None:
        raise NotFound(f"Workflow with id: {task.workflow_id} not found.")
    return rq.json_response(workflow_json(state))


async def _signal(request: web.Request) -> TaskState | None:
    """Complete the run's blocked WAIT (in it or a running sub-workflow); None if there is none."""
    status = _result_status(request)
    output = await rq.json_object(request, "output", required=False)
    task = await blocking.find_signal_target(
        blocking.loader(request.app), request.match_info["workflow_id"]
    )
    if task is not None:
        await _complete_from_outside(request, task, status, output)
    return task


@requires(Permission.WORK, audited=True)
async def signal(request: web.Request) -> web.Response:
    """Fire and forget, as Conductor: 200 whether or not something was waiting."""
    await _signal(request)
    return rq.empty()


@requires(Permission.WORK, audited=True)
async def signal_sync(request: web.Request) -> web.Response:
    """Signal, then hold until the run ends or blocks again; answer per `returnStrategy`."""
    strategy = blocking.return_strategy(request)
    timeout_ms = rq.query_int(request, "timeoutMillis", 5000, minimum=0)
    assert timeout_ms is not None
    workflow_id = request.match_info["workflow_id"]
    if await _signal(request) is None:
        raise NotFound(f"Found no blocked task in workflow {workflow_id} to signal")
    settled = await blocking.await_settled(request.app, workflow_id, (), timeout_ms / 1000)
    return rq.json_response(blocking.signal_response(strategy, settled, str(uuid.uuid4())))


@requires(Permission.READ)
async def get_task(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    async with request.app[POOL].acquire() as conn:
        stored = await store.get(conn, task_id)
    if stored is None:
        raise NotFound(f"Task not found for taskId: {task_id}")
    return rq.json_response(stored_task_json(stored))


@requires(Permission.WORK)
async def add_log(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    # Plain text, as Conductor takes it; the Python SDK sends it unquoted, others as a JSON string.
    raw = (await request.read()).decode("utf-8", errors="replace")
    line = raw
    if raw.startswith('"'):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = None
        line = parsed if isinstance(parsed, str) else raw
    async with request.app[POOL].acquire() as conn:
        stored = await store.get(conn, task_id)
        if stored is None:
            raise NotFound(f"Task not found for taskId: {task_id}")
        check_task_scope(request, stored.task.task_type, stored.task.domain)
        await store.add_log(conn, task_id, line, request.app[CLOCK].now_ms())
    return rq.empty()


@requires(Permission.READ)
async def get_logs(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        found = await store.logs(conn, request.match_info["task_id"])
    if not found:
        return rq.empty(204)
    return rq.json_response(
        [{"log": g.log, "taskId": g.task_id, "createdTime": g.created_time} for g in found]
    )


@requires(Permission.READ)
async def queue_sizes(request: web.Request) -> web.Response:
    names = [n for n in request.query.getall("taskType", []) if n]
    async with request.app[POOL].acquire() as conn:
        return rq.json_response(await store.queue_sizes(conn, names))


@requires(Permission.READ)
async def all_queue_sizes(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        return rq.json_response(await store.all_queue_sizes(conn))


@requires(Permission.READ)
async def queue_size(request: web.Request) -> web.Response:
    task_type = rq.query_str(request, "taskType")
    if task_type is None:
        raise BadRequest("taskType is required")
    queue = queue_name(task_type, rq.query_str(request, "domain"))
    async with request.app[POOL].acquire() as conn:
        sizes = await store.queue_sizes(conn, [queue])
    return rq.json_response(sizes[queue])


@requires(Permission.READ)
async def all_queue_sizes_verbose(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        sizes = await store.all_queue_sizes(conn)
        unacked = await store.in_progress_counts(conn, list(sizes))
    return rq.json_response(
        {q: {"a": {"size": n, "uacked": unacked.get(q, 0)}} for q, n in sizes.items()}
    )


@requires(Permission.OPERATE, audited=True)
async def requeue(request: web.Request) -> web.Response:
    """Make the task type's waiting tasks (delayed by a callback or a retry back-off) pollable
    now; answers with how many tasks the queue holds."""
    task_type = request.match_info["task_type"]
    async with request.app[POOL].acquire() as conn:
        size = await store.requeue(conn, task_type, request.app[CLOCK].now_ms())
    request.app[WAKEUPS].queues_ready({task_type})
    return rq.text(str(size))


@requires(Permission.READ)
async def poll_data(request: web.Request) -> web.Response:
    task_type = rq.query_str(request, "taskType")
    if task_type is None:
        raise BadRequest("taskType is required")
    return await _poll_data(request, task_type)


@requires(Permission.READ)
async def all_poll_data(request: web.Request) -> web.Response:
    return await _poll_data(request, None)


async def _poll_data(request: web.Request, task_type: str | None) -> web.Response:
    await request.app[POLLER].flush_poll_data()
    async with request.app[POOL].acquire() as conn:
        found = await store.poll_data(conn, task_type)
    return rq.json_response(
        [
            {
                k: v
                for k, v in {
                    "queueName": r.queue_name,
                    "domain": r.domain,
                    "workerId": r.worker_id,
                    "lastPollTime": r.last_poll_time,
                }.items()
                if v is not None
            }
            for r in found
        ]
    )


@requires(Permission.WORK)
async def ack(_request: web.Request) -> web.Response:
    return rq.text("true")  # older clients ack; polling already acknowledged the task


def routes() -> list[web.RouteDef]:
    base = "/api/tasks"
    return [
        web.get(f"{base}/poll/batch/{{task_type}}", poll_batch),
        web.get(f"{base}/poll/{{task_type}}", poll_one),
        web.post(base, update_task),
        web.post(f"{base}/update-v2", update_task_v2),
        web.get(f"{base}/queue/sizes", queue_sizes),
        web.get(f"{base}/queue/all", all_queue_sizes),
        web.get(f"{base}/queue/all/verbose", all_queue_sizes_verbose),
        web.get(f"{base}/queue/size", queue_size),
        web.post(f"{base}/queue/requeue/{{task_type}}", requeue),
        web.get(f"{base}/queue/polldata", poll_data),
        web.get(f"{base}/queue/polldata/all", all_poll_data),
        web.post(f"{base}/{{task_id}}/log", add_log),
        web.get(f"{base}/{{task_id}}/log", get_logs),
        web.post(f"{base}/{{task_id}}/ack", ack),
        # Before the by-reference routes, whose {ref}/{status} would take "{status}/signal".
        web.post(f"{base}/{{workflow_id}}/{{status}}/signal", signal),
        web.post(f"{base}/{{workflow_id}}/{{status}}/signal/sync", signal_sync),
        web.post(f"{base}/{{workflow_id}}/{{ref}}/{{status}}", update_by_reference),
        web.post(f"{base}/{{workflow_id}}/{{ref}}/{{status}}/sync", update_by_reference_sync),
        web.get(f"{base}/{{task_id}}", get_task),
    ]
