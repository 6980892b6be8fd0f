"""The official Python SDK's signals, sync updates and return strategies against a live server.

An approval run blocks on a WAIT, then on a WAIT inside a sub-workflow, then on a last WAIT; the
SDK walks it through with each return strategy, as Conductor OSS 3.21+ answers them.
"""

from __future__ import annotations

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.sub_workflow_task import SubWorkflowTask
from conductor.client.workflow.task.wait_task import WaitTask

from conductor.testing.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.once]


def _register(executor: WorkflowExecutor) -> None:
    child = ConductorWorkflow(executor=executor, name="sdk_approval_child", version=1)
    child.add(WaitTask(task_ref_name="child_wait"))
    child.output_parameters({"approved": "${child_wait.output.approved}"})
    child.register(overwrite=True)
    parent = ConductorWorkflow(executor=executor, name="sdk_approval", version=1)
    parent.add(WaitTask(task_ref_name="first_wait"))
    parent.add(
        SubWorkflowTask(task_ref_name="review", workflow_name="sdk_approval_child", version=1)
    )
    parent.add(WaitTask(task_ref_name="last_wait"))
    parent.output_parameters({"approved": "${review.output.approved}"})
    parent.register(overwrite=True)


@pytest.fixture
def executor(server: ServerProcess) -> WorkflowExecutor:
    executor = WorkflowExecutor(Configuration(server_api_url=server.api))
    _register(executor)
    return executor


def _start_request() -> StartWorkflowRequest:
    return StartWorkflowRequest(name="sdk_approval", version=1, input={"note": "n-1"})


def test_execute_per_return_strategy(executor: WorkflowExecutor) -> None:
    task = executor.execute_workflow_with_return_strategy(
        _start_request(), wait_for_seconds=10, return_strategy="BLOCKING_TASK"
    )
    assert task.response_type == "BLOCKING_TASK"
    assert task.reference_task_name == "first_wait" and task.task_type == "WAIT"
    assert task.target_workflow_id == task.workflow_id
    assert task.target_workflow_status == "RUNNING"

    run = executor.execute_workflow_with_return_strategy(
        _start_request(), wait_for_seconds=10, return_strategy="TARGET_WORKFLOW"
    )
    assert run.response_type == "TARGET_WORKFLOW"
    assert run.input == {"note": "n-1"}
    assert [t["referenceTaskName"] for t in run.tasks] == ["first_wait"]


def test_signals_walk_the_run_through_its_sub_workflow(executor: WorkflowExecutor) -> None:
    started = executor.execute_workflow_with_return_strategy(
        _start_request(), wait_for_seconds=10, return_strategy="TARGET_WORKFLOW"
    )
    parent_id = started.workflow_id

    child = executor.signal(parent_id, "COMPLETED", {"why": "audit"}, "BLOCKING_WORKFLOW")
    assert child.response_type == "BLOCKING_WORKFLOW"
    assert child.target_workflow_id == parent_id and child.workflow_id != parent_id
    assert [t["referenceTaskName"] for t in child.tasks] == ["child_wait"]

    last = executor.signal(parent_id, "COMPLETED", {"approved": True}, "BLOCKING_TASK_INPUT")
    assert last.response_type == "BLOCKING_TASK_INPUT"
    assert last.reference_task_name == "last_wait" and last.workflow_id == parent_id

    executor.signal_async(parent_id, "COMPLETED", {"closed": True})
    done = executor.get_workflow(parent_id, include_tasks=True)
    assert done.status == "COMPLETED" and done.output == {"approved": True}
    assert done.tasks[-1].output_data == {"closed": True}


def test_update_by_reference_answers_the_run(
    executor: WorkflowExecutor, server: ServerProcess
) -> None:
    workflow_id = executor.start_workflow(_start_request())
    tasks = OrkesClients(Configuration(server_api_url=server.api)).get_task_client()
    # Without a worker id: conductor-python 2.0.0 passes it as a keyword its API method refuses
    # (TypeError before any request); tests/integration/test_signals.py sends `workerid`.
    run = tasks.update_task_sync(workflow_id, "first_wait", "COMPLETED", {"why": "z"})
    assert run.workflow_id == workflow_id and run.status == "RUNNING"
    assert run.tasks[0].status == "COMPLETED" and run.tasks[0].output_data == {"why": "z"}
    with pytest.raises(ApiException) as refused:
        tasks.update_task_sync(workflow_id, "first_wait", "COMPLETED", {})
    assert refused.value.status == 404
