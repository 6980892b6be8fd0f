"""Fixtures for the worker library's unit tests: an in-process fake of the task endpoints.

`FakeConductor` serves batch poll, POST /tasks and POST /tasks/update-v2 on an aiohttp
TestServer and records every request, so tests can check what the runner sent. It is a
test double for this library only; the real server is exercised by the e2e suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from workers import Backoff, ConductorClient, TaskRunner, Worker

# Tests wait for retries, not seconds.
FAST_BACKOFF = Backoff(base=0.001, factor=2.0, cap=0.01, max_attempts=5)

TERMINAL = frozenset({"COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR"})


@dataclass
class PollRecord:
    task_type: str
    query: dict[str, str]
    count: int
    # Tasks of this type claimed earlier and not yet answered when the poll arrived.
    outstanding: int
    returned: list[str] = field(default_factory=list)
    status: int = 200


@dataclass
class UpdateRecord:
    path: str
    body: dict[str, Any]
    status: int


class FakeConductor:
    """A recording stand-in for Conductor's worker endpoints."""

    # Long polls are capped so that stopping a runner in a test never waits long.
    max_long_poll = 0.05

    def __init__(self) -> None:
        self.base_url = ""
        self.update_v2_supported = True
        self.queues: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self.polls: list[PollRecord] = []
        self.updates: list[UpdateRecord] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.poll_failures: deque[int] = deque()
        self.update_failures: deque[int] = deque()
        self._claimed: dict[str, str] = {}  # taskId -> taskType, until answered
        self._types: dict[str, str] = {}  # taskId -> taskType, for every enqueued task
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_get("/api/tasks/poll/batch/{task_type}", self._poll)
        self.app.router.add_post("/api/tasks", self._update)
        self.app.router.add_post("/api/tasks/update-v2", self._update_v2)

    async def enqueue(self, task_type: str, input_data: dict[str, Any] | None = None) -> str:
        """Schedule a task and wake long-polls; return its id."""
        task_id = str(uuid.uuid4())
        task = {
            "taskId": task_id,
            "workflowInstanceId": f"wf-{task_id[:8]}",
            "taskType": task_type,
            "taskDefName": task_type,
            "referenceTaskName": f"{task_type}_ref",
            "status": "SCHEDULED",
            "inputData": input_data or {},
            "retryCount": 0,
            "pollCount": 0,
            "responseTimeoutSeconds": 3600,
            "workflowType": "test_workflow",
            "iteration": 0,
        }
        async with self._changed:
            self.queues[task_type].append(task)
            self._types[task_id] = task_type
            self._changed.notify_all()
        return task_id

    def outstanding(self, task_type: str) -> int:
        return sum(1 for claimed_type in self._claimed.values() if claimed_type == task_type)

    def updates_for(self, task_id: str) -> list[UpdateRecord]:
        return [u for u in self.updates if u.body.get("taskId") == task_id]

    def _claim(self, task_type: str, worker_id: str) -> dict[str, Any]:
        task = self.queues[task_type].popleft()
        task = {**task, "status": "IN_PROGRESS", "workerId": worker_id, "pollCount": 1}
        self._claimed[task["taskId"]] = task_type
        return task

    async def _poll(self, request: web.Request) -> web.Response:
        task_type = request.match_info["task_type"]
        query = dict(request.query)
        record = PollRecord(task_type, query, int(query["count"]), self.outstanding(task_type))
        self.polls.append(record)
        if self.poll_failures:
            record.status = self.poll_failures.popleft()
            return _error(record.status, "injected poll failure")
        wait = min(int(query["timeout"]) / 1000, self.max_long_poll)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._changed.wait_for(lambda: bool(self.queues[task_type]))
            take = min(record.count, len(self.queues[task_type]))
            tasks = [self._claim(task_type, query["workerid"]) for _ in range(take)]
        record.returned = [task["taskId"] for task in tasks]
        return web.json_response(tasks)

    async def _accept(self, path: str, request: web.Request) -> web.Response | None:
        """Record an update; return an error response, or None once it is applied."""
        body = await request.json()
        status = self.update_failures.popleft() if self.update_failures else 200
        if status == 200 and body.get("taskId") not in self._types:
            status = 404
        self.updates.append(UpdateRecord(path, body, status))
        if status != 200:
            return _error(status, f"update of {body.get('taskId')} refused")
        self._claimed.pop(body["taskId"], None)
        self.results[body["taskId"]] = body
        return None

    async def _update(self, request: web.Request) -> web.Response:
        refused = await self._accept("/tasks", request)
        if refused is not None:
            return refused
        return web.Response(text=self.updates[-1].body["taskId"], content_type="text/plain")

    async def _update_v2(self, request: web.Request) -> web.Response:
        if not self.update_v2_supported:
            # What an older server (or aiohttp itself) answers for an unknown route.
            self.updates.append(UpdateRecord("/tasks/update-v2", await request.json(), 404))
            raise web.HTTPNotFound()
        refused = await self._accept("/tasks/update-v2", request)
        if refused is not None:
            return refused
        body = self.updates[-1].body
        task_type = self._types[body["taskId"]]
        if body["status"] not in TERMINAL or not self.queues[task_type]:
            return web.Response(status=204)
        return web.json_response(self._claim(task_type, body["workerId"]))


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"status": status, "message": message, "retryable": False}, status=status
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeConductor]:
    fake = FakeConductor()
    server = TestServer(fake.app)
    await server.start_server()
    fake.base_url = str(server.make_url("/api"))
    yield fake
    await server.close()


@pytest.fixture
async def client(fake: FakeConductor) -> AsyncIterator[ConductorClient]:
    async with ConductorClient(fake.base_url) as client:
        yield client


StartRunner = Callable[..., tuple[TaskRunner, "asyncio.Task[None]"]]


@pytest.fixture
def fast_backoff() -> Backoff:
    return FAST_BACKOFF


@pytest.fixture
async def start_runner(client: ConductorClient) -> AsyncIterator[StartRunner]:
    """Start TaskRunners with fast backoff; stop and await them at teardown."""
    started: list[tuple[TaskRunner, asyncio.Task[None]]] = []

    def start(workers: list[Worker], **kwargs: Any) -> tuple[TaskRunner, asyncio.Task[None]]:
        kwargs.setdefault("poll_backoff", FAST_BACKOFF)
        kwargs.setdefault("update_backoff", FAST_BACKOFF)
        kwargs.setdefault("min_poll_interval", 0.005)
        runner = TaskRunner(client, workers, worker_id="test-worker", **kwargs)
        run_task = asyncio.create_task(runner.run())
        started.append((runner, run_task))
        return runner, run_task

    yield start
    for runner, run_task in started:
        await runner.stop(grace_seconds=1)
        if not run_task.cancelled():
            await run_task
