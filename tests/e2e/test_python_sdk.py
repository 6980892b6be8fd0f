"""The official conductor-python SDK (2.0.0), unchanged, against one server subprocess.

Definitions are registered with the SDK's MetadataClient, workflows run on workers started by
its TaskHandler (one spawned process per `@worker_task` function, see sdk_workers.py), and a
synchronous run goes through its WorkflowExecutor. The server, the database, the definitions
and the worker processes are shared by the module's tests; each test starts its own workflows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.task import Task
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.models.workflow import Workflow
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.orkes_clients import OrkesClients

from conductor.testing.server_process import ServerProcess
from tests.e2e import sdk_workers
from tests.e2e.harness import one_server_on_its_own_database, wait_until_sync

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class as a test
    from tests.pg import TestDatabases

pytestmark = [pytest.mark.e2e, pytest.mark.once]

PIPELINE = "e2e_sdk_pipeline"
FATAL_FLOW = "e2e_sdk_fatal_flow"
RETRY_DELAY_S = 2
# Worker processes are spawned and import the SDK first: several seconds on a 2-core machine.
WORKFLOW_DEADLINE_S = 60.0
TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}


@pytest.fixture(scope="module")
def sdk_server(
    databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from one_server_on_its_own_database(
        databases, Path(tmp_path_factory.mktemp("sdk-server"))
    )


@pytest.fixture(scope="module")
def configuration(sdk_server: ServerProcess) -> Configuration:
    return Configuration(server_api_url=sdk_server.api)


@pytest.fixture(scope="module")
def clients(configuration: Configuration) -> OrkesClients:
    return OrkesClients(configuration)


def _task(name: str, ref: str, value: str) -> WorkflowTask:
    return WorkflowTask(
        name=name, task_reference_name=ref, type="SIMPLE", input_parameters={"value": value}
    )


@pytest.fixture(scope="module")
def definitions(clients: OrkesClients) -> None:
    """Task and workflow definitions, registered through the SDK's MetadataClient."""
    metadata = clients.get_metadata_client()
    for task_def in (
        TaskDef(name=sdk_workers.PREPARE, retry_count=0),
        TaskDef(
            name=sdk_workers.FLAKY,
            retry_count=1,
            retry_logic="FIXED",
            retry_delay_seconds=RETRY_DELAY_S,
            timeout_seconds=60,
            response_timeout_seconds=30,
        ),
        TaskDef(name=sdk_workers.FINISH, retry_count=0),
        TaskDef(name=sdk_workers.FATAL, retry_count=2, retry_delay_seconds=0),
    ):
        metadata.register_task_def(task_def)
    pipeline = WorkflowDef(
        name=PIPELINE,
        version=1,
        schema_version=2,
        timeout_seconds=120,
        tasks=[
            _task(sdk_workers.PREPARE, "prepare_ref", "${workflow.input.value}"),
            _task(sdk_workers.FLAKY, "flaky_ref", "${prepare_ref.output.value}"),
            _task(sdk_workers.FINISH, "finish_ref", "${flaky_ref.output.value}"),
        ],
        output_parameters={
            "result": "${finish_ref.output.result}",
            "attempt": "${flaky_ref.output.attempt}",
        },
    )
    fatal_flow = WorkflowDef(
        name=FATAL_FLOW,
        version=1,
        schema_version=2,
        timeout_seconds=120,
        tasks=[
            _task(sdk_workers.PREPARE, "prepare_ref", "${workflow.input.value}"),
            _task(sdk_workers.FATAL, "fatal_ref", "${prepare_ref.output.value}"),
            _task(sdk_workers.FINISH, "finish_ref", "${fatal_ref.output.value}"),
        ],
    )
    metadata.register_workflow_def(pipeline, overwrite=True)
    metadata.register_workflow_def(fatal_flow, overwrite=True)


@pytest.fixture(scope="module")
def task_handler(configuration: Configuration, definitions: None) -> Iterator[TaskHandler]:
    handler = TaskHandler(
        configuration=configuration,
        scan_for_annotated_workers=True,
        import_modules=[sdk_workers.__name__],
    )
    handler.start_processes()
    try:
        yield handler
    finally:
        handler.stop_processes()


def _wait_terminal(clients: OrkesClients, workflow_id: str) -> Workflow:
    workflow_client = clients.get_workflow_client()
    latest: list[Workflow] = []

    def terminal() -> bool:
        latest[:] = [workflow_client.get_workflow(workflow_id, include_tasks=True)]
        return latest[0].status in TERMINAL

    wait_until_sync(terminal, WORKFLOW_DEADLINE_S, 0.1, f"workflow {workflow_id} terminal")
    return latest[0]


def _tasks_of(workflow: Workflow, ref: str) -> list[Task]:
    tasks = [t for t in workflow.tasks if t.reference_task_name == ref]
    return sorted(tasks, key=lambda t: t.retry_count)


def test_metadata_client_round_trip(clients: OrkesClients, definitions: None) -> None:
    metadata = clients.get_metadata_client()

    flaky = metadata.get_task_def(sdk_workers.FLAKY)
    pipeline = metadata.get_workflow_def(PIPELINE, version=1)

    assert (flaky.name, flaky.retry_count, flaky.retry_logic, flaky.retry_delay_seconds) == (
        sdk_workers.FLAKY,
        1,
        "FIXED",
        RETRY_DELAY_S,
    )
    assert flaky.response_timeout_seconds == 30
    assert pipeline.name == PIPELINE
    assert pipeline.version == 1
    assert [t.task_reference_name for t in pipeline.tasks] == [
        "prepare_ref",
        "flaky_ref",
        "finish_ref",
    ]
    assert [t.name for t in pipeline.tasks] == [
        sdk_workers.PREPARE,
        sdk_workers.FLAKY,
        sdk_workers.FINISH,
    ]


def test_failed_task_is_retried_after_its_delay(
    clients: OrkesClients, task_handler: TaskHandler
) -> None:
    """The flaky worker fails once; the retry comes no earlier than retryDelaySeconds later.

    As in Conductor (DeciderService.retry; e2e BackoffTests), the retry is created and stamped
    `scheduledTime` when the failure is processed and is held back in the queue for the delay,
    so the delay shows as `startTime - scheduledTime` of the retry (and after the failure's
    `endTime`), not in `scheduledTime` itself.
    """
    workflow_id = clients.get_workflow_client().start_workflow_by_name(
        PIPELINE, {"value": 4}, version=1
    )

    workflow = _wait_terminal(clients, workflow_id)

    assert workflow.status == "COMPLETED", workflow.reason_for_incompletion
    assert workflow.output == {"result": 55, "attempt": 1}
    failed, retry = _tasks_of(workflow, "flaky_ref")
    assert (failed.status, failed.retry_count) == ("FAILED", 0)
    assert failed.reason_for_incompletion == "transient failure on the first attempt"
    assert (retry.status, retry.retry_count) == ("COMPLETED", 1)
    assert retry.retried_task_id == failed.task_id
    assert retry.task_id != failed.task_id
    assert retry.scheduled_time >= failed.end_time
    assert retry.start_time - failed.end_time >= RETRY_DELAY_S * 1000
    assert retry.start_time - retry.scheduled_time >= RETRY_DELAY_S * 1000
    for ref in ("prepare_ref", "finish_ref"):
        assert [t.status for t in _tasks_of(workflow, ref)] == ["COMPLETED"]
    assert "flaky_ref" in (workflow.failed_reference_task_names or [])


def test_non_retryable_exception_fails_the_workflow(
    clients: OrkesClients, task_handler: TaskHandler
) -> None:
    workflow_id = clients.get_workflow_client().start_workflow_by_name(
        FATAL_FLOW, {"value": 1}, version=1
    )

    workflow = _wait_terminal(clients, workflow_id)

    assert workflow.status == "FAILED"
    (fatal,) = _tasks_of(workflow, "fatal_ref")  # retryCount 2 in its def, yet one attempt
    assert fatal.status == "FAILED_WITH_TERMINAL_ERROR"
    assert fatal.reason_for_incompletion == "fatal: cannot handle 2"
    assert _tasks_of(workflow, "finish_ref") == []
    assert "fatal: cannot handle 2" in (workflow.reason_for_incompletion or "")


def test_workflow_executor_execute_returns_output(
    clients: OrkesClients, task_handler: TaskHandler
) -> None:
    executor = clients.get_workflow_executor()
    started = time.monotonic()

    run = executor.execute(PIPELINE, version=1, workflow_input={"value": 1}, wait_for_seconds=30)

    elapsed = time.monotonic() - started
    assert run.status == "COMPLETED"
    assert run.output == {"result": 25, "attempt": 1}
    assert run.workflow_id
    # Held until the workflow ended (one retry delay), not for the whole waitForSeconds.
    assert RETRY_DELAY_S <= elapsed < 20
    workflow = clients.get_workflow_client().get_workflow(run.workflow_id, include_tasks=True)
    assert workflow.status == "COMPLETED"
    assert workflow.output == run.output
