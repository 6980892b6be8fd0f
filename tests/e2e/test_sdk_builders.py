"""The definitions the official conductor-python SDK's builders produce are accepted here as by
Conductor OSS, and run on the SDK's own workers (sdk_workers.py, started by its TaskHandler).

Each test builds a `ConductorWorkflow` from the SDK's task classes (SimpleTask, ForkTask and
nested forks, the `>> [[a, b], [c, d]]` shorthand, DynamicForkTask, SwitchTask, LoopTask,
DoWhileTask, SubWorkflowTask) or adds an inline task definition with no name to what the
builder made, registers it through the SDK's MetadataClient and runs it to its end. Where the
builder makes a definition Conductor accepts but cannot run (a fork last, with no JOIN after
it), the run fails as Conductor's does. test_sdk_workflow_as_code.py covers the system tasks
without workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.models.workflow import Workflow
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_test_request import WorkflowTestRequest
from conductor.client.orkes_clients import OrkesClients
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.do_while_task import DoWhileTask, LoopTask
from conductor.client.workflow.task.dynamic_fork_task import DynamicForkTask
from conductor.client.workflow.task.fork_task import ForkTask
from conductor.client.workflow.task.join_task import JoinTask
from conductor.client.workflow.task.simple_task import SimpleTask
from conductor.client.workflow.task.sub_workflow_task import SubWorkflowTask
from conductor.client.workflow.task.switch_task import SwitchTask

from conductor.testing.server_process import ServerProcess
from tests.e2e import sdk_workers
from tests.e2e.harness import one_server_on_its_own_database, wait_until_sync

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class as a test
    from tests.pg import TestDatabases

pytestmark = [pytest.mark.e2e, pytest.mark.once]

TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}
WORKFLOW_DEADLINE_S = 30.0
# A worker task no worker polls: the workflow test endpoint mocks it.
UNPOLLED = "e2e_sdk_unpolled"


@pytest.fixture(scope="module")
def builder_server(
    databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from one_server_on_its_own_database(
        databases, Path(tmp_path_factory.mktemp("sdk-builders"))
    )


@pytest.fixture(scope="module")
def configuration(builder_server: ServerProcess) -> Configuration:
    return Configuration(server_api_url=builder_server.api)


@pytest.fixture(scope="module")
def clients(configuration: Configuration) -> OrkesClients:
    return OrkesClients(configuration)


@pytest.fixture(scope="module")
def executor(configuration: Configuration) -> WorkflowExecutor:
    return WorkflowExecutor(configuration)


@pytest.fixture(scope="module")
def workers(configuration: Configuration) -> Iterator[TaskHandler]:
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


def prepare(ref: str, value: Any) -> SimpleTask:
    """A worker task: {value} -> {value: value + 1}."""
    return SimpleTask(sdk_workers.PREPARE, ref).input_parameter("value", value)


def finish(ref: str, value: Any) -> SimpleTask:
    """A worker task: {value} -> {result: value + 5}."""
    return SimpleTask(sdk_workers.FINISH, ref).input_parameter("value", value)


def register(clients: OrkesClients, definition: WorkflowDef) -> None:
    """Through the SDK's MetadataClient (PUT /metadata/workflow); a refusal raises."""
    clients.get_metadata_client().register_workflow_def(definition, overwrite=True)


def run(clients: OrkesClients, name: str, workflow_input: dict[str, Any]) -> Workflow:
    """Start by name through the SDK and wait until the run has ended."""
    workflow_client = clients.get_workflow_client()
    workflow_id = workflow_client.start_workflow(
        StartWorkflowRequest(name=name, version=1, input=workflow_input)
    )
    latest: list[Workflow] = []

    def ended() -> bool:
        latest[:] = [workflow_client.get_workflow(workflow_id, include_tasks=True)]
        return latest[0].status in TERMINAL

    wait_until_sync(ended, WORKFLOW_DEADLINE_S, 0.1, f"workflow {workflow_id} ended")
    return latest[0]


def statuses(workflow: Workflow) -> dict[str, str]:
    return {t.reference_task_name: t.status for t in workflow.tasks}


def new_workflow(executor: WorkflowExecutor, name: str) -> ConductorWorkflow:
    return ConductorWorkflow(executor=executor, name=name, version=1)


def test_shorthand_fork_branches_run_on_workers_and_join(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    """`wf >> [[a, b], [c, d]] >> e`: the SDK puts a JOIN on the last task of each branch."""
    a, c = prepare("a", "${workflow.input.value}"), prepare("c", 100)
    b, d = finish("b", a.output("value")), finish("d", c.output("value"))
    workflow = new_workflow(executor, "e2e_builders_fork")
    workflow >> [[a, b], [c, d]] >> finish("e", b.output("result"))
    workflow.output_parameters({"left": b.output("result"), "right": d.output("result")})
    register(clients, workflow.to_workflow_def())

    final = run(clients, "e2e_builders_fork", {"value": 1})

    assert final.status == "COMPLETED", final.reason_for_incompletion
    assert final.output == {"left": 7, "right": 106}
    assert set(statuses(final).values()) == {"COMPLETED"}


def test_a_fork_left_last_is_accepted_and_its_run_fails_as_in_conductor(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    """`wf >> first >> [[a, b], [c, d]]` ends with a FORK_JOIN and no JOIN: Conductor registers
    it, and its ForkJoinTaskMapper fails the run when it reaches the fork."""
    first = prepare("first", 1)
    workflow = new_workflow(executor, "e2e_builders_fork_last")
    workflow >> first >> [[prepare("a", 1), finish("b", 2)], [prepare("c", 3), finish("d", 4)]]
    definition = workflow.to_workflow_def()
    assert [t.type for t in definition.tasks] == ["SIMPLE", "FORK_JOIN"]
    register(clients, definition)

    final = run(clients, "e2e_builders_fork_last", {})

    assert final.status == "FAILED"
    assert final.reason_for_incompletion == (
        "Fork task definition is not followed by a join task.  Check the blueprint"
    )
    assert statuses(final) == {"first": "COMPLETED"}


def test_nested_forks_run_to_completion(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    inner_a, inner_b = prepare("inner_a", 10), prepare("inner_b", 20)
    inner = ForkTask("inner_fork", [[inner_a], [inner_b]])
    inner_join = JoinTask("inner_join", join_on=["inner_a", "inner_b"])
    side = finish("side", 1)
    outer = ForkTask("outer_fork", [[inner, inner_join], [side]])
    outer_join = JoinTask("outer_join", join_on=["inner_join", "side"])
    workflow = new_workflow(executor, "e2e_builders_nested_fork")
    workflow >> outer >> outer_join >> finish("after", inner_b.output("value"))
    workflow.output_parameters({"inner": inner_join.output(), "side": side.output("result")})
    register(clients, workflow.to_workflow_def())

    final = run(clients, "e2e_builders_nested_fork", {})

    assert final.status == "COMPLETED", final.reason_for_incompletion
    inner_out = {"inner_a": {"value": 11}, "inner_b": {"value": 21}}
    assert final.output == {"inner": inner_out, "side": 6}
    assert set(statuses(final).values()) == {"COMPLETED"}


def test_dynamic_fork_runs_the_tasks_its_input_names(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    fork = DynamicForkTask("dyn", join_task=JoinTask("dyn_join"))
    fork.input_parameter("dynamicTasks", "${workflow.input.tasks}")
    fork.input_parameter("dynamicTasksInputs", "${workflow.input.inputs}")
    workflow = new_workflow(executor, "e2e_builders_dynamic_fork")
    workflow >> fork
    workflow.output_parameters({"joined": "${dyn_join.output}"})
    register(clients, workflow.to_workflow_def())
    tasks = [
        {"name": sdk_workers.PREPARE, "taskReferenceName": "p1", "type": "SIMPLE"},
        {"name": sdk_workers.FINISH, "taskReferenceName": "f1", "type": "SIMPLE"},
    ]
    inputs = {"p1": {"value": 1}, "f1": {"value": 2}}

    final = run(clients, "e2e_builders_dynamic_fork", {"tasks": tasks, "inputs": inputs})

    assert final.status == "COMPLETED", final.reason_for_incompletion
    assert final.output == {"joined": {"p1": {"value": 2}, "f1": {"result": 7}}}


def test_switch_loops_and_a_sub_workflow_run_on_workers(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    child = new_workflow(executor, "e2e_builders_child")
    child_step = finish("child_step", "${workflow.input.value}")
    child >> child_step
    child.output_parameters({"result": child_step.output("result")})
    register(clients, child.to_workflow_def())

    route = SwitchTask("route", "${workflow.input.kind}")
    route.switch_case("loop", [LoopTask("counted", 2, [prepare("counted_step", 1)])])
    grow = DoWhileTask(
        "grow",
        "if ($.grow_step.value < $.limit) { true; } else { false; }",
        [prepare("grow_step", "${grow.output.iteration}")],
    ).input_parameter("limit", "${workflow.input.value}")
    route.default_case([grow])
    call = SubWorkflowTask("call", "e2e_builders_child", version=1)
    call.input_parameter("value", "${workflow.input.value}")
    workflow = new_workflow(executor, "e2e_builders_control_flow")
    workflow >> route >> call
    workflow.output_parameters({"child": call.output("result")})
    register(clients, workflow.to_workflow_def())

    counted = run(clients, "e2e_builders_control_flow", {"kind": "loop", "value": 1})
    grown = run(clients, "e2e_builders_control_flow", {"kind": "grow", "value": 3})

    assert counted.status == "COMPLETED", counted.reason_for_incompletion
    assert counted.output == {"child": 6}
    assert {"counted_step__1", "counted_step__2"} <= set(statuses(counted))
    assert grown.status == "COMPLETED", grown.reason_for_incompletion
    assert grown.output == {"child": 8}
    assert {"grow_step__1", "grow_step__2"} <= set(statuses(grown))
    assert "grow_step__3" not in statuses(grown)


def test_an_inline_task_definition_without_a_name_is_accepted_and_used(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    """The task is named by its WorkflowTask; its own TaskDef's settings apply (here: one retry
    of the flaky worker, which fails every first attempt)."""
    flaky = SimpleTask(sdk_workers.FLAKY, "flaky").input_parameter("value", 4)
    workflow = new_workflow(executor, "e2e_builders_inline_def")
    workflow >> flaky
    definition = workflow.to_workflow_def()
    definition.tasks[0].task_definition = TaskDef(retry_count=1, retry_delay_seconds=0)
    register(clients, definition)

    final = run(clients, "e2e_builders_inline_def", {})

    assert final.status == "COMPLETED", final.reason_for_incompletion
    attempts = [(t.status, t.retry_count) for t in final.tasks]
    assert attempts == [("FAILED", 0), ("COMPLETED", 1)]
    assert final.tasks[0].task_def_name == sdk_workers.FLAKY


def test_workflow_test_mocks_a_loop_iteration_by_its_own_reference(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    """POST /workflow/test through the SDK: mocks keyed `ref__1`, `ref__2` (how Conductor names
    a loop's iterations) complete those iterations and the run."""
    step = SimpleTask(UNPOLLED, "step").input_parameter("n", 1)
    workflow = new_workflow(executor, "e2e_builders_mocked_loop")
    workflow >> LoopTask("loop", 2, [step])
    register(clients, workflow.to_workflow_def())
    mocks = {
        "step__1": [{"status": "COMPLETED", "output": {"n": 1}}],
        "step__2": [{"status": "COMPLETED", "output": {"n": 2}}],
    }
    request = WorkflowTestRequest(
        name="e2e_builders_mocked_loop", version=1, input={}, task_ref_to_mock_output=mocks
    )

    final = clients.get_workflow_client().test_workflow(request)

    assert final.status == "COMPLETED", final.reason_for_incompletion
    assert statuses(final) == {"loop": "COMPLETED", "step__1": "COMPLETED", "step__2": "COMPLETED"}


def test_a_failed_runs_failure_workflow_can_be_read_at_once(
    clients: OrkesClients, executor: WorkflowExecutor, workers: TaskHandler
) -> None:
    """The failure workflow is created in the transaction that fails its parent, so the id in
    `conductor.failure_workflow` names a run the SDK can read as soon as the parent is FAILED."""
    cleanup = new_workflow(executor, "e2e_builders_cleanup")
    cleanup >> SimpleTask(UNPOLLED, "undo")
    register(clients, cleanup.to_workflow_def())
    risky = new_workflow(executor, "e2e_builders_risky").failure_workflow("e2e_builders_cleanup")
    risky >> SimpleTask(sdk_workers.FATAL, "fatal").input_parameter("value", 1)
    register(clients, risky.to_workflow_def())

    failed = run(clients, "e2e_builders_risky", {"order": 7})

    assert failed.status == "FAILED"
    cleanup_id = failed.output["conductor.failure_workflow"]
    started = clients.get_workflow_client().get_workflow(cleanup_id, include_tasks=False)
    assert started.workflow_name == "e2e_builders_cleanup"
    assert started.input["workflowId"] == failed.workflow_id
    assert started.input["order"] == 7
