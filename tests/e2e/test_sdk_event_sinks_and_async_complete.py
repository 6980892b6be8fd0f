"""The official Python SDK against a real server: an event handler for an `sqs:` queue (no
consumer here, stored as Conductor stores it) and an HTTP task with asyncComplete, completed by
the SDK's task client."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conductor.client.configuration.configuration import Configuration
from conductor.client.event.event_client import EventClient
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models.action import Action
from conductor.client.http.models.event_handler import EventHandler
from conductor.client.http.models.start_workflow import StartWorkflow
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.models.workflow import Workflow
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.orkes_clients import OrkesClients

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import wait_until_sync

pytestmark = [pytest.mark.e2e, pytest.mark.once]

DEADLINE_S = 30.0


async def _accept(request: web.Request) -> web.Response:
    return web.json_response({"job": (await request.json())["job"], "queued": True}, status=202)


def _run_until(clients: OrkesClients, workflow_id: str, task_status: str) -> Workflow:
    found: list[Workflow] = []

    def reached() -> bool:
        run = clients.get_workflow_client().get_workflow(workflow_id, include_tasks=True)
        found[:] = [run]
        return bool(run.tasks) and run.tasks[0].status == task_status

    wait_until_sync(reached, DEADLINE_S, 0.1, f"task of {workflow_id} {task_status}")
    return found[0]


def _sdk_flow(configuration: Configuration, base: str) -> tuple[dict, Workflow, Workflow]:
    """Blocking SDK calls (run in a thread while the test's loop serves HTTP)."""
    events = EventClient(ApiClient(configuration)).client
    handler = EventHandler(
        name="sdk_sqs_orders",
        event="sqs:orders-queue",
        condition="$.amount > 0",
        actions=[
            Action(
                action="start_workflow",
                start_workflow=StartWorkflow(name="sdk_async_http", input={"job": "${id}"}),
            )
        ],
        active=True,
    )
    events.add_event_handler(handler)
    [stored] = events.get_event_handlers_for_event("sqs:orders-queue")
    listed = {h.name: h for h in events.get_event_handlers()}
    assert listed["sdk_sqs_orders"].event == "sqs:orders-queue"

    clients = OrkesClients(configuration)
    call = WorkflowTask(
        name="submit",
        task_reference_name="submit",
        type="HTTP",
        async_complete=True,
        input_parameters={
            "http_request": {
                "uri": f"{base}/jobs",
                "method": "POST",
                "body": {"job": "${workflow.input.job}"},
            }
        },
    )
    clients.get_metadata_client().register_workflow_def(
        WorkflowDef(name="sdk_async_http", version=1, tasks=[call]), overwrite=True
    )
    workflow_id = clients.get_workflow_client().start_workflow(
        StartWorkflowRequest(name="sdk_async_http", version=1, input={"job": "j-7"})
    )
    waiting = _run_until(clients, workflow_id, "IN_PROGRESS")
    task = waiting.tasks[0]
    clients.get_task_client().update_task(
        TaskResult(
            workflow_instance_id=workflow_id,
            task_id=task.task_id,
            status="COMPLETED",
            output_data={"done": True},
        )
    )
    finished = _run_until(clients, workflow_id, "COMPLETED")
    return stored.to_dict(), waiting, finished


async def test_sqs_handler_and_async_complete_http_through_the_sdk(
    server: ServerProcess,
) -> None:
    configuration = Configuration(server_api_url=server.api)
    app = web.Application()
    app.router.add_post("/jobs", _accept)
    async with TestServer(app, host="127.0.0.1") as http_server:
        base = str(http_server.make_url("")).rstrip("/")
        stored, waiting, finished = await asyncio.to_thread(_sdk_flow, configuration, base)

    assert stored["name"] == "sdk_sqs_orders" and stored["event"] == "sqs:orders-queue"
    assert stored["active"] is True and stored["condition"] == "$.amount > 0"
    assert stored["actions"][0]["start_workflow"]["input"] == {"job": "${id}"}

    assert waiting.status == "RUNNING"
    task = waiting.tasks[0]
    assert task.input_data["asyncComplete"] is True
    assert task.output_data["response"]["statusCode"] == 202
    assert task.output_data["response"]["body"] == {"job": "j-7", "queued": True}

    assert finished.status == "COMPLETED"
    assert finished.tasks[0].output_data == {"done": True}
