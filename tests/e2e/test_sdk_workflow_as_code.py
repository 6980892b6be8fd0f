"""Workflows written as code with the official conductor-python SDK (2.0.0, unchanged) run here.

Each test builds a `ConductorWorkflow` from the SDK's task classes (SetVariableTask, SwitchTask,
InlineTask, JsonJQTask, TerminateTask, ForkTask, JoinTask, LoopTask, DoWhileTask,
SubWorkflowTask, InlineSubWorkflowTask, HttpTask), registers it through the SDK
(`ConductorWorkflow.register`: PUT /metadata/workflow with a list of one definition) and runs it
through the SDK: `ConductorWorkflow.execute` (POST /workflow/execute/{name}/1 with the definition
embedded), `WorkflowExecutor.execute` (by name and version) or
`ConductorWorkflow.start_workflow_with_input` followed by polling the SDK's workflow client.
Only system tasks are used, so no worker processes are needed. One server and database are
shared by the module; every workflow has its own name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.task import Task
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.models.workflow import Workflow
from conductor.client.http.models.workflow_run import WorkflowRun
from conductor.client.orkes_clients import OrkesClients
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.do_while_task import DoWhileTask, LoopTask
from conductor.client.workflow.task.fork_task import ForkTask
from conductor.client.workflow.task.http_task import HttpInput, HttpMethod, HttpTask
from conductor.client.workflow.task.inline import InlineTask
from conductor.client.workflow.task.join_task import JoinTask
from conductor.client.workflow.task.json_jq_task import JsonJQTask
from conductor.client.workflow.task.set_variable_task import SetVariableTask
from conductor.client.workflow.task.sub_workflow_task import (
    InlineSubWorkflowTask,
    SubWorkflowTask,
)
from conductor.client.workflow.task.switch_task import SwitchTask
from conductor.client.workflow.task.terminate_task import TerminateTask, WorkflowStatus

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import one_server_on_its_own_database, wait_until_sync

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class as a test
    from tests.pg import TestDatabases

pytestmark = [pytest.mark.e2e, pytest.mark.once]

TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}
# How long the server may hold an execute call, and the deadline for polling afterwards.
EXECUTE_WAIT_S = 20
WORKFLOW_DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def wac_server(
    databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    yield from one_server_on_its_own_database(
        databases, Path(tmp_path_factory.mktemp("sdk-wac-server"))
    )


@pytest.fixture(scope="module")
def configuration(wac_server: ServerProcess) -> Configuration:
    return Configuration(server_api_url=wac_server.api)


@pytest.fixture(scope="module")
def clients(configuration: Configuration) -> OrkesClients:
    return OrkesClients(configuration)


@pytest.fixture(scope="module")
def executor(configuration: Configuration) -> WorkflowExecutor:
    return WorkflowExecutor(configuration)


def _wait_terminal(clients: OrkesClients, workflow_id: str) -> Workflow:
    """Poll the SDK's workflow client until the workflow is terminal (deadline, no bare sleep)."""
    workflow_client = clients.get_workflow_client()
    latest: list[Workflow] = []

    def terminal() -> bool:
        latest[:] = [workflow_client.get_workflow(workflow_id, include_tasks=True)]
        return latest[0].status in TERMINAL

    wait_until_sync(terminal, WORKFLOW_DEADLINE_S, 0.1, f"workflow {workflow_id} terminal")
    return latest[0]


def _finished(clients: OrkesClients, run: WorkflowRun) -> Workflow:
    """The full final state of a workflow started by an execute call.

    The execute call holds the request until the workflow is terminal; if it came back earlier
    (a slow machine), the state is polled until it is.
    """
    assert run.workflow_id, run
    workflow = _wait_terminal(clients, run.workflow_id)
    if run.status in TERMINAL:
        assert run.status == workflow.status
        assert run.output == workflow.output
    return workflow


def _tasks(workflow: Workflow) -> dict[str, Task]:
    """The workflow's tasks by reference name (each reference appears once in these flows)."""
    by_ref: dict[str, Task] = {}
    for task in workflow.tasks:
        assert task.reference_task_name not in by_ref, f"{task.reference_task_name} twice"
        by_ref[task.reference_task_name] = task
    return by_ref


def _statuses(workflow: Workflow) -> dict[str, str]:
    return {ref: task.status for ref, task in _tasks(workflow).items()}


# 1. SET_VARIABLE -> SWITCH (value-param) with INLINE / JSON_JQ / TERMINATE -> SWITCH (graaljs)

ROUTER = "e2e_wac_router"


def _router(executor: WorkflowExecutor) -> ConductorWorkflow:
    remember = (
        SetVariableTask("remember_ref")
        .input_parameter("route", "${workflow.input.route}")
        .input_parameter("amount", "${workflow.input.amount}")
    )
    double = InlineTask(
        "double_ref",
        "(function () { return $.amount * 2; })()",
        bindings={"amount": "${workflow.variables.amount}"},
    )
    shape = JsonJQTask(
        "shape_ref", "{total: (.amount + 1), tags: [.tags[] | ascii_upcase]}"
    ).input_parameter("amount", "${workflow.variables.amount}")
    shape.input_parameter("tags", "${workflow.input.tags}")
    stop = TerminateTask(
        "stop_ref", WorkflowStatus.FAILED, "unknown route ${workflow.variables.route}"
    ).input_parameter("workflowOutput", {"rejected": "${workflow.variables.route}"})
    route = SwitchTask("route_ref", "${workflow.variables.route}")
    route.switch_case("inline", [double])
    route.switch_case("jq", [shape])
    route.default_case([stop])
    size = SwitchTask("size_ref", "$.amount > 100 ? 'big' : 'small'", use_javascript=True)
    size.input_parameter("amount", "${workflow.variables.amount}")
    size.switch_case("big", [SetVariableTask("big_ref").input_parameter("size", "big")])
    size.switch_case("small", [SetVariableTask("small_ref").input_parameter("size", "small")])

    workflow = ConductorWorkflow(executor=executor, name=ROUTER, version=1)
    workflow >> remember >> route >> size
    return workflow.output_parameters(
        {
            "route": "${workflow.variables.route}",
            "doubled": double.output("result"),
            "shaped": shape.output("result"),
            "size": "${workflow.variables.size}",
        }
    )


def test_switch_routes_through_inline_jq_and_terminate(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    router = _router(executor)
    router.register(overwrite=True)

    inline = _finished(
        clients, router.execute({"route": "inline", "amount": 21}, "", EXECUTE_WAIT_S)
    )
    jq = _finished(
        clients,
        router.execute({"route": "jq", "amount": 500, "tags": ["a", "b"]}, "", EXECUTE_WAIT_S),
    )
    stopped = _finished(
        clients, router.execute({"route": "nowhere", "amount": 7}, "", EXECUTE_WAIT_S)
    )

    assert inline.status == "COMPLETED", inline.reason_for_incompletion
    assert inline.output == {"route": "inline", "doubled": 42, "shaped": None, "size": "small"}
    assert inline.variables == {"route": "inline", "amount": 21, "size": "small"}
    assert _statuses(inline) == {
        "remember_ref": "COMPLETED",
        "route_ref": "COMPLETED",
        "double_ref": "COMPLETED",
        "size_ref": "COMPLETED",
        "small_ref": "COMPLETED",
    }
    inline_tasks = _tasks(inline)
    assert inline_tasks["route_ref"].task_type == "SWITCH"
    assert inline_tasks["route_ref"].output_data == {
        "evaluationResult": ["inline"],
        "selectedCase": "inline",
    }
    assert inline_tasks["size_ref"].output_data == {
        "evaluationResult": ["small"],
        "selectedCase": "small",
    }
    assert inline_tasks["double_ref"].output_data == {"result": 42}

    assert jq.status == "COMPLETED", jq.reason_for_incompletion
    assert jq.output == {
        "route": "jq",
        "doubled": None,
        "shaped": {"total": 501, "tags": ["A", "B"]},
        "size": "big",
    }
    assert _statuses(jq) == {
        "remember_ref": "COMPLETED",
        "route_ref": "COMPLETED",
        "shape_ref": "COMPLETED",
        "size_ref": "COMPLETED",
        "big_ref": "COMPLETED",
    }
    assert _tasks(jq)["shape_ref"].output_data == {
        "result": {"total": 501, "tags": ["A", "B"]},
        "resultList": [{"total": 501, "tags": ["A", "B"]}],
    }

    # Default case: TERMINATE with FAILED ends the workflow; the second SWITCH never runs.
    assert stopped.status == "FAILED"
    assert stopped.reason_for_incompletion == "unknown route nowhere"
    assert stopped.output == {"rejected": "nowhere"}
    assert _statuses(stopped) == {
        "remember_ref": "COMPLETED",
        "route_ref": "COMPLETED",
        "stop_ref": "COMPLETED",
    }
    stop = _tasks(stopped)["stop_ref"]
    assert stop.task_type == "TERMINATE"
    assert stop.input_data["terminationStatus"] == "FAILED"
    assert stop.output_data == {"rejected": "nowhere"}


def test_terminate_completed_ends_the_workflow_early(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    """TERMINATE with COMPLETED: a successful end, the task after it is never scheduled."""
    greet = InlineTask(
        "greet_ref", "'hello ' + $.name", bindings={"name": "${workflow.input.name}"}
    )
    done = TerminateTask("done_ref", WorkflowStatus.COMPLETED, "nothing more to do")
    done.input_parameter("workflowOutput", {"greeting": greet.output("result")})
    never = InlineTask("never_ref", "'unreachable'")
    workflow = ConductorWorkflow(executor=executor, name="e2e_wac_early_exit", version=1)
    workflow >> greet >> done >> never
    workflow.register(overwrite=True)

    final = _finished(clients, workflow.execute({"name": "Ada"}, "", EXECUTE_WAIT_S))

    assert final.status == "COMPLETED"
    assert final.output == {"greeting": "hello Ada"}
    assert final.reason_for_incompletion == "nothing more to do"
    assert _statuses(final) == {"greet_ref": "COMPLETED", "done_ref": "COMPLETED"}


# 2. FORK_JOIN + JOIN: an explicit ForkTask/JoinTask and the `>> [[...], [...]]` shorthand


def test_fork_join_collects_branch_outputs(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    upper = InlineTask(
        "upper_ref", "$.word.toUpperCase()", bindings={"word": "${workflow.input.word}"}
    )
    total = JsonJQTask("total_ref", ".numbers | add").input_parameter(
        "numbers", "${workflow.input.numbers}"
    )
    fork = ForkTask("fork_ref", [[upper], [total]])
    join = JoinTask("join_ref", join_on=["upper_ref", "total_ref"])
    # Shorthand: a list of branches after `>>` becomes FORK_JOIN forked_<id>, and the SDK adds
    # JOIN join_forked_<id> on the last task of each branch, but only if a task follows the fork.
    left = InlineTask("left_ref", "$.word + '!'", bindings={"word": upper.output("result")})
    right_a = InlineTask("right_a_ref", "$.n * 10", bindings={"n": total.output("result")})
    right_b = InlineTask("right_b_ref", "$.n + 1", bindings={"n": right_a.output("result")})
    both = InlineTask(
        "both_ref",
        "$.left + ' ' + $.right",
        bindings={"left": left.output("result"), "right": right_b.output("result")},
    )
    workflow = ConductorWorkflow(executor=executor, name="e2e_wac_fork", version=1)
    workflow >> fork >> join >> [[left], [right_a, right_b]] >> both
    workflow.output_parameters(
        {
            "joined": join.output(),
            "left": left.output("result"),
            "right": right_b.output("result"),
            "both": both.output("result"),
        }
    )
    definition = workflow.to_workflow_def()
    shorthand_fork, shorthand_join = definition.tasks[2], definition.tasks[3]
    assert (shorthand_fork.type, shorthand_join.type) == ("FORK_JOIN", "JOIN")
    assert shorthand_join.join_on == ["left_ref", "right_b_ref"]
    workflow.register(overwrite=True)

    final = _finished(
        clients, workflow.execute({"word": "fork", "numbers": [1, 2, 3]}, "", EXECUTE_WAIT_S)
    )

    assert final.status == "COMPLETED", final.reason_for_incompletion
    joined = {"upper_ref": {"result": "FORK"}, "total_ref": {"result": 6, "resultList": [6]}}
    assert final.output == {"joined": joined, "left": "FORK!", "right": 61, "both": "FORK! 61"}
    tasks = _tasks(final)
    assert tasks["fork_ref"].task_type == "FORK"
    assert tasks["join_ref"].task_type == "JOIN"
    assert tasks["join_ref"].output_data == joined
    assert tasks["join_ref"].input_data["joinOn"] == ["upper_ref", "total_ref"]
    auto_join = tasks[shorthand_join.task_reference_name]
    assert auto_join.status == "COMPLETED"
    assert auto_join.output_data == {"left_ref": {"result": "FORK!"}, "right_b_ref": {"result": 61}}
    assert set(_statuses(final).values()) == {"COMPLETED"}
    assert len(final.tasks) == 10


# 3. DO_WHILE: LoopTask (fixed count) and DoWhileTask (condition on the body's output)


def test_loop_and_do_while_iterate(clients: OrkesClients, executor: WorkflowExecutor) -> None:
    square = InlineTask("square_ref", "$.i * $.i", bindings={"i": "${loop_ref.output.iteration}"})
    loop = LoopTask("loop_ref", iterations=3, tasks=[square])
    power = InlineTask(
        "power_ref", "Math.pow(2, $.i)", bindings={"i": "${grow_ref.output.iteration}"}
    )
    grow = DoWhileTask(
        "grow_ref",
        "if ($.power_ref.result < $.limit) { true; } else { false; }",
        [power],
    ).input_parameter("limit", "${workflow.input.limit}")
    workflow = ConductorWorkflow(executor=executor, name="e2e_wac_loops", version=1)
    workflow >> loop >> grow
    workflow.output_parameters(
        {
            "lastSquare": square.output("result"),
            "loops": "${loop_ref.output.iteration}",
            "lastPower": power.output("result"),
            "grows": "${grow_ref.output.iteration}",
        }
    )
    workflow.register(overwrite=True)

    final = _finished(clients, workflow.execute({"limit": 10}, "", EXECUTE_WAIT_S))

    assert final.status == "COMPLETED", final.reason_for_incompletion
    assert final.output == {"lastSquare": 9, "loops": 3, "lastPower": 16, "grows": 4}
    tasks = _tasks(final)
    assert tasks["loop_ref"].task_type == "DO_WHILE"
    assert tasks["loop_ref"].output_data == {
        "iteration": 3,
        "1": {"square_ref": {"result": 1}},
        "2": {"square_ref": {"result": 4}},
        "3": {"square_ref": {"result": 9}},
    }
    for n in (1, 2, 3):
        body = tasks[f"square_ref__{n}"]
        assert (body.status, body.iteration, body.output_data) == (
            "COMPLETED",
            n,
            {"result": n * n},
        )
    # Math.pow answers a double; whole numbers come back as integers.
    assert tasks["grow_ref"].output_data == {
        "iteration": 4,
        "1": {"power_ref": {"result": 2}},
        "2": {"power_ref": {"result": 4}},
        "3": {"power_ref": {"result": 8}},
        "4": {"power_ref": {"result": 16}},
    }
    assert [tasks[f"power_ref__{n}"].iteration for n in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert "square_ref" not in tasks and "power_ref__5" not in tasks
    assert len(final.tasks) == 2 + 3 + 4


# 4. SUB_WORKFLOW: by name (SubWorkflowTask) and with the definition embedded


def _child(executor: WorkflowExecutor, name: str, salutation: str) -> ConductorWorkflow:
    greet = InlineTask(
        "greet_ref",
        "(function () { return {text: $.salutation + ', ' + $.name, size: $.name.length}; })()",
        bindings={"name": "${workflow.input.name}", "salutation": salutation},
    )
    child = ConductorWorkflow(executor=executor, name=name, version=1)
    child >> greet
    return child.output_parameters(
        {"greeting": greet.output("result.text"), "size": greet.output("result.size")}
    )


def test_sub_workflow_output_reaches_the_parent(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    child = _child(executor, "e2e_wac_child", "Hello")
    child.register(overwrite=True)
    call = SubWorkflowTask("child_ref", "e2e_wac_child", version=1).input_parameter(
        "name", "${workflow.input.name}"
    )
    shout = InlineTask(
        "shout_ref", "$.text.toUpperCase()", bindings={"text": call.output("greeting")}
    )
    parent = ConductorWorkflow(executor=executor, name="e2e_wac_parent", version=1)
    parent >> call >> shout
    parent.output_parameters(
        {
            "greeting": call.output("greeting"),
            "size": call.output("size"),
            "shout": shout.output("result"),
            "childId": call.output("subWorkflowId"),
        }
    )
    parent.register(overwrite=True)

    run = executor.execute(
        "e2e_wac_parent", version=1, workflow_input={"name": "Ada"}, wait_for_seconds=EXECUTE_WAIT_S
    )
    final = _finished(clients, run)

    assert final.status == "COMPLETED", final.reason_for_incompletion
    child_id = final.output["childId"]
    assert final.output == {
        "greeting": "Hello, Ada",
        "size": 3,
        "shout": "HELLO, ADA",
        "childId": child_id,
    }
    sub_task = _tasks(final)["child_ref"]
    assert sub_task.task_type == "SUB_WORKFLOW"
    assert sub_task.status == "COMPLETED"
    assert sub_task.sub_workflow_id == child_id
    assert sub_task.output_data == {
        "subWorkflowId": child_id,
        "greeting": "Hello, Ada",
        "size": 3,
    }
    child_run = clients.get_workflow_client().get_workflow(child_id, include_tasks=True)
    assert child_run.workflow_name == "e2e_wac_child"
    assert child_run.workflow_version == 1
    assert child_run.status == "COMPLETED"
    assert child_run.parent_workflow_id == final.workflow_id
    assert child_run.parent_workflow_task_id == sub_task.task_id
    assert child_run.input == {"name": "Ada"}
    assert child_run.output == {"greeting": "Hello, Ada", "size": 3}


def test_embedded_sub_workflow_definition_runs_unregistered(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    """InlineSubWorkflowTask carries the child's definition; the child is never registered.

    The parent is started (not executed) and its end is awaited by polling the workflow client.
    """
    child = _child(executor, "e2e_wac_unregistered_child", "Bonjour")
    call = InlineSubWorkflowTask("inline_child_ref", child).input_parameter(
        "name", "${workflow.input.name}"
    )
    parent = ConductorWorkflow(executor=executor, name="e2e_wac_embedding_parent", version=1)
    parent >> call
    parent.output_parameters({"greeting": call.output("greeting")})
    assert parent.to_workflow_def().tasks[0].sub_workflow_param.workflow_definition is not None
    parent.register(overwrite=True)

    workflow_id = parent.start_workflow_with_input({"name": "Zoe"})
    final = _wait_terminal(clients, workflow_id)

    assert final.status == "COMPLETED", final.reason_for_incompletion
    sub_task = _tasks(final)["inline_child_ref"]
    assert sub_task.task_type == "SUB_WORKFLOW"
    # The embedded definition is the child's own: its ${...} are not resolved in the parent.
    embedded = sub_task.input_data["subWorkflowDefinition"]
    assert embedded["tasks"][0]["inputParameters"]["name"] == "${workflow.input.name}"
    assert embedded["outputParameters"] == {
        "greeting": "${greet_ref.output.result.text}",
        "size": "${greet_ref.output.result.size}",
    }
    child_run = clients.get_workflow_client().get_workflow(sub_task.sub_workflow_id)
    assert child_run.workflow_name == "e2e_wac_unregistered_child"
    assert child_run.status == "COMPLETED"
    assert child_run.parent_workflow_id == workflow_id
    assert child_run.input["name"] == "Zoe"
    assert child_run.output == {"greeting": "Bonjour, Zoe", "size": 3}
    assert final.output == {"greeting": "Bonjour, Zoe"}


# 5. HTTP against a loopback aiohttp server started by the test


async def _echo(request: web.Request) -> web.Response:
    body: Any = await request.json() if request.can_read_body else None
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "trace": request.headers.get("X-Trace"),
            "contentType": request.content_type,
            "body": body,
        },
        status=201,
    )


async def _missing(request: web.Request) -> web.Response:
    return web.json_response({"error": f"no {request.path}"}, status=404)


async def test_http_task_calls_a_local_server(
    clients: OrkesClients, executor: WorkflowExecutor
) -> None:
    """The test's own loop serves HTTP; the blocking SDK calls run in threads meanwhile."""
    app = web.Application()
    app.router.add_post("/echo", _echo)
    app.router.add_get("/missing", _missing)
    async with TestServer(app, host="127.0.0.1") as http_server:
        base = str(http_server.make_url("")).rstrip("/")
        post = HttpTask(
            "post_ref",
            HttpInput(
                method=HttpMethod.POST,
                uri=f"{base}/echo",
                headers={"X-Trace": "${workflow.input.trace}"},
                content_type="application/json",
                accept="application/json",
                body={"n": "${workflow.input.n}", "tags": ["x", "y"]},
            ),
        )
        calling = ConductorWorkflow(executor=executor, name="e2e_wac_http", version=1)
        calling >> post
        calling.output_parameters(
            {"status": post.status_code(), "echoed": post.body("body"), "all": post.body()}
        )
        # A dict input: the SDK adds method GET. No retries, so a 404 fails the workflow.
        missing = HttpTask("missing_ref", {"uri": f"{base}/missing"})
        failing = ConductorWorkflow(executor=executor, name="e2e_wac_http_404", version=1)
        failing >> missing
        await asyncio.to_thread(
            clients.get_metadata_client().register_task_def,
            TaskDef(name="missing_ref", retry_count=0),
        )
        await asyncio.to_thread(calling.register, True)
        await asyncio.to_thread(failing.register, True)

        ok_run = await asyncio.to_thread(
            calling.execute, {"n": 5, "trace": "t-1"}, "", EXECUTE_WAIT_S
        )
        ok = await asyncio.to_thread(_finished, clients, ok_run)
        bad_run = await asyncio.to_thread(failing.execute, {}, "", EXECUTE_WAIT_S)
        bad = await asyncio.to_thread(_finished, clients, bad_run)

    assert ok.status == "COMPLETED", ok.reason_for_incompletion
    echoed = {
        "method": "POST",
        "path": "/echo",
        "trace": "t-1",
        "contentType": "application/json",
        "body": {"n": 5, "tags": ["x", "y"]},
    }
    assert ok.output == {"status": 201, "echoed": echoed["body"], "all": echoed}
    response = _tasks(ok)["post_ref"].output_data["response"]
    assert (response["statusCode"], response["reasonPhrase"]) == (201, "Created")
    assert response["body"] == echoed
    assert response["headers"]["Content-Type"][0].startswith("application/json")

    assert bad.status == "FAILED"
    (attempt,) = bad.tasks
    assert attempt.reference_task_name == "missing_ref"
    assert attempt.task_type == "HTTP"
    assert attempt.status == "FAILED"
    assert attempt.input_data["http_request"]["method"] == "GET"
    assert attempt.output_data["response"]["statusCode"] == 404
    assert attempt.output_data["response"]["body"] == {"error": "no /missing"}
    assert "missing_ref" in (bad.failed_reference_task_names or [])
