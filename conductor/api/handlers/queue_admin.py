"""/api/queue: Conductor's default event queues (QueueAdminResource): their names and sizes,
and publishes that complete or fail a waiting task (by reference name or task id)."""

from __future__ import annotations

from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import CLOCK, POOL, WAKEUPS
from conductor.api.permissions import requires
from conductor.engine.model import TaskStatus
from conductor.errors import BadRequest
from conductor.roles import Permission
from conductor.services import notify_queues
from conductor.store import events as store


@requires(Permission.READ)
async def names(request: web.Request) -> web.Response:
    return rq.json_response({status.value: queue for status, queue in notify_queues.QUEUES.items()})


@requires(Permission.READ)
async def sizes(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        counts = await store.queue_sizes(conn, list(notify_queues.QUEUES.values()))
    return rq.json_response(counts)


@requires(Permission.OPERATE, audited=True)
async def update_by_ref(request: web.Request) -> web.Response:
    info = request.match_info
    await _publish(request, info["workflow_id"], None, info["task_ref_name"])
    return rq.empty()


@requires(Permission.OPERATE, audited=True)
async def update_by_task_id(request: web.Request) -> web.Response:
    info = request.match_info
    await _publish(request, info["workflow_id"], info["task_id"], None)
    return rq.empty()


async def _publish(
    request: web.Request, workflow_id: str, task_id: str | None, ref_name: str | None
) -> None:
    raw = request.match_info["status"]
    try:
        status = TaskStatus(raw)
    except ValueError:
        raise BadRequest(f"Invalid task status: {raw}") from None
    queue = notify_queues.QUEUES.get(status)
    if queue is None:
        raise BadRequest(f"There is no queue for handling {raw} status")
    output = await rq.json_object(request, "output")
    message_id, payload = notify_queues.message(workflow_id, task_id, ref_name, output)
    async with request.app[POOL].acquire() as conn:
        await store.publish(conn, queue, message_id, payload, request.app[CLOCK].now_ms())
    request.app[WAKEUPS].event_messages_written()


def routes() -> list[web.RouteDef]:
    base = "/api/queue"
    return [
        web.get(f"{base}/", names),
        web.get(base, names),
        web.get(f"{base}/size", sizes),
        web.post(f"{base}/update/{{workflow_id}}/{{task_ref_name}}/{{status}}", update_by_ref),
        web.post(f"{base}/update/{{workflow_id}}/task/{{task_id}}/{{status}}", update_by_task_id),
    ]
