"""The official Python SDK's read calls that Conductor OSS serves and we added for issue 13.
(Its get_execution_status_task_list cannot read any server's answer: conductor-python 2.0.0
names a model it lacks, TaskListSearchResultSummary; tests/integration covers that route.)"""

from __future__ import annotations

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.workflow_resource_api import WorkflowResourceApi
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients

from conductor.testing.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.once]


def test_running_workflows_of_a_version(server: ServerProcess) -> None:
    configuration = Configuration(server_api_url=server.api)
    clients = OrkesClients(configuration)
    steps = [
        WorkflowTask(name="pick", task_reference_name=ref, type="SIMPLE") for ref in ("a", "b")
    ]
    clients.get_metadata_client().register_workflow_def(
        WorkflowDef(name="sdk_running", version=1, tasks=steps), overwrite=True
    )
    workflows = clients.get_workflow_client()
    started = [
        workflows.start_workflow(StartWorkflowRequest(name="sdk_running", version=1, input={}))
        for _ in range(2)
    ]
    api = WorkflowResourceApi(ApiClient(configuration))

    assert sorted(api.get_running_workflow("sdk_running", version=1)) == sorted(started)
    assert api.get_running_workflow("sdk_running", version=2) == []


def test_an_unknown_definition_reads_as_conductors_404(server: ServerProcess) -> None:
    metadata = OrkesClients(Configuration(server_api_url=server.api)).get_metadata_client()
    with pytest.raises(ApiException) as refused:
        metadata.get_workflow_def("nope")
    assert refused.value.status == 404
    assert "No such workflow found by name: nope, version: null" in str(refused.value.body)
