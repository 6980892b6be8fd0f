"""The official Python SDK's scheduler admin calls (pause, resume and requeue all) against a
running server, and the schedule search, which conductor-python 2.0.0 has no method for."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.scheduler_resource_api import SchedulerResourceApi
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models.save_schedule_request import SaveScheduleRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.orkes_clients import OrkesClients

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import wait_until_sync

pytestmark = [pytest.mark.e2e, pytest.mark.once]


def _search(server: ServerProcess, **params: Any) -> tuple[int, Any]:
    """GET /api/scheduler/schedules/search over plain HTTP: conductor-python 2.0.0's
    SchedulerResourceApi has no method for it (its search_v21 is /scheduler/search/executions)."""
    url = f"{server.api}/scheduler/schedules/search?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_pause_requeue_resume_and_search_through_the_sdk(server: ServerProcess) -> None:
    configuration = Configuration(server_api_url=server.api)
    clients = OrkesClients(configuration)
    clients.get_metadata_client().register_workflow_def(
        WorkflowDef(
            name="sdk_scheduled",
            version=1,
            tasks=[WorkflowTask(name="tick", task_reference_name="t", type="SIMPLE")],
        ),
        overwrite=True,
    )
    api = SchedulerResourceApi(ApiClient(configuration))
    scheduler = clients.get_scheduler_client()

    assert api.pause_all_schedules() == {"status": "done"}
    for name, cron in (("sdk_every_second", "* * * * * ?"), ("sdk_yearly", "0 0 0 1 1 ?")):
        scheduler.save_schedule(
            SaveScheduleRequest(
                name=name,
                cron_expression=cron,
                zone_id="UTC",
                start_workflow_request=StartWorkflowRequest(name="sdk_scheduled", input={}),
            )
        )
    scheduler.pause_schedule("sdk_yearly")

    requeued = api.requeue_all_execution_records()
    assert requeued == {"recordIds.size": 1, "sampleIds": ["sdk_every_second"]}

    status, found = _search(server, workflowName="sdk_scheduled", size=1)
    assert status == 200
    assert found["totalHits"] == 2 and [s["name"] for s in found["results"]] == ["sdk_every_second"]
    status, found = _search(server, scheduleName="YEARLY", paused="true")
    assert status == 200 and [s["name"] for s in found["results"]] == ["sdk_yearly"]
    status, refused = _search(server, size="lots")
    assert status == 400 and refused["status"] == 400

    # Resumed, the every-second schedule starts its workflows again.
    assert api.resume_all_schedules() == {"status": "done"}
    wait_until_sync(
        lambda: bool(scheduler.search_schedule_executions(size=10).results),
        timeout=15,
        what="a scheduled run after resume",
    )
    run = scheduler.search_schedule_executions(size=10).results[0]
    assert run.schedule_name == "sdk_every_second" and run.state == "EXECUTED"
    scheduler.delete_schedule("sdk_every_second")
