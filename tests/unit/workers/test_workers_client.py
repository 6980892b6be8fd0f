"""ConductorClient against a recording catch-all server: URLs, bodies, answers, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from workers import ConductorClient, ConductorError, TaskResult, TaskResultStatus


@dataclass
class Recorder:
    """Answers every request from `answers` (keyed by method and raw path) and records it."""

    answers: dict[tuple[str, str], web.Response] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append(
            {
                "method": request.method,
                "path": request.raw_path.split("?")[0],
                "query": dict(request.query),
                "body": json.loads(body) if body else None,
            }
        )
        return self.answers.get((request.method, request.path), web.Response(status=200))


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, ConductorClient]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    server = TestServer(app)
    await server.start_server()
    async with ConductorClient(str(server.make_url("/api/"))) as client:
        yield rec, client
    await server.close()


async def test_start_workflow_returns_text_id(recorder):
    rec, client = recorder
    rec.answers[("POST", "/api/workflow/hello_world")] = web.Response(text="wf-1\n")

    workflow_id = await client.start_workflow(
        "hello_world", {"name": "World"}, version=2, correlation_id="c1"
    )

    assert workflow_id == "wf-1"
    assert rec.requests == [
        {
            "method": "POST",
            "path": "/api/workflow/hello_world",
            "query": {"version": "2", "correlationId": "c1"},
            "body": {"name": "World"},
        }
    ]


async def test_get_workflow_and_metadata_helpers(recorder):
    rec, client = recorder
    rec.answers[("GET", "/api/workflow/wf-1")] = web.json_response({"status": "RUNNING"})

    assert await client.get_workflow("wf-1") == {"status": "RUNNING"}
    await client.register_task_defs([{"name": "greet"}])
    await client.register_workflow_def({"name": "hello_world"})

    assert [(r["method"], r["path"], r["query"], r["body"]) for r in rec.requests] == [
        ("GET", "/api/workflow/wf-1", {"includeTasks": "true"}, None),
        ("POST", "/api/metadata/taskdefs", {}, [{"name": "greet"}]),
        ("POST", "/api/metadata/workflow", {"overwrite": "true"}, {"name": "hello_world"}),
    ]


async def test_poll_and_update_v2_treat_204_as_nothing(recorder):
    rec, client = recorder
    result = TaskResult("w1", "t1", TaskResultStatus.COMPLETED)

    assert await client.batch_poll("a/b", "w", 2, 100, domain="blue") == []
    assert await client.update_v2(result) is None

    poll, update = rec.requests
    # A task type holding '/' stays one path segment.
    assert poll["path"] == "/api/tasks/poll/batch/a%2Fb"
    assert poll["query"] == {"workerid": "w", "count": "2", "timeout": "100", "domain": "blue"}
    assert update["path"] == "/api/tasks/update-v2"
    assert update["body"] == result.to_json()


async def test_batch_poll_parses_tasks_and_skips_malformed(recorder):
    rec, client = recorder
    rec.answers[("GET", "/api/tasks/poll/batch/greet")] = web.json_response(
        [{"taskId": "t1", "workflowInstanceId": "w1", "taskType": "greet"}, {"taskId": "t2"}]
    )

    tasks = await client.batch_poll("greet", "w", 2, 100)

    assert [task.task_id for task in tasks] == ["t1"]


async def test_error_response_becomes_conductor_error(recorder):
    rec, client = recorder
    rec.answers[("POST", "/api/tasks")] = web.json_response(
        {"status": 404, "message": "No such task found by id: t1", "retryable": False},
        status=404,
    )
    rec.answers[("GET", "/api/workflow/wf-9")] = web.Response(status=503, text="overloaded")

    with pytest.raises(ConductorError) as not_found:
        await client.update(TaskResult("w1", "t1", TaskResultStatus.COMPLETED))
    with pytest.raises(ConductorError) as unavailable:
        await client.get_workflow("wf-9")

    assert not_found.value.status == 404
    assert not_found.value.message == "No such task found by id: t1"
    assert not not_found.value.retryable
    assert (unavailable.value.status, unavailable.value.message) == (503, "overloaded")
