"""Conductor's own example definitions, run to the results Conductor documents.

Every definition lives in tests/fixtures/conductor_examples/ (one workflow per file; the README
there names the page or test resource each one was typed from). Examples that reach the outside
world use the placeholder `{{BASE_URL}}`, which these tests replace with a loopback aiohttp server.
Deferred system tasks (scripts, jq, HTTP, sub-workflows, joins, loop conditions) are driven by
running the timer service by hand; workers are played by polling and posting TaskResults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import drain
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    workflow,
)

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conductor_examples"


def load(fixture: str, base_url: str | None = None) -> dict[str, Any]:
    text = (FIXTURES / f"{fixture}.json").read_text()
    if base_url is not None:
        text = text.replace("{{BASE_URL}}", base_url)
    assert "{{BASE_URL}}" not in text, f"{fixture} needs a base URL"
    return json.loads(text)


async def register(client, *fixtures: str, base_url: str | None = None) -> list[dict]:
    definitions = [load(fixture, base_url) for fixture in fixtures]
    for definition in definitions:
        await register_workflow(client, definition)
    return definitions


async def begin(
    client, name: str, workflow_input: dict | None = None, correlation_id: str | None = None
) -> str:
    params = {"correlationId": correlation_id} if correlation_id else {}
    response = await client.post(f"/api/workflow/{name}", params=params, json=workflow_input or {})
    assert response.status == 200, await response.text()
    await drain(client)
    return await response.text()


async def work(client, task_type: str, output: dict | None = None) -> dict:
    """Play the worker: poll exactly one `task_type` task and complete it with `output`."""
    tasks = await poll(client, task_type)
    assert len(tasks) == 1, f"expected one {task_type} task, got {tasks}"
    response = await complete(client, tasks[0], output=output or {})
    assert response.status == 200, await response.text()
    await drain(client)
    return tasks[0]


def shape(run: dict) -> list[tuple[str, str]]:
    return [(t["taskType"], t["status"]) for t in run["tasks"]]


def by_ref(run: dict) -> dict[str, dict]:
    return {t["referenceTaskName"]: t for t in run["tasks"]}


@pytest.fixture
async def remote():
    """A loopback stand-in for the services the documented examples call."""
    calls: list[dict] = []
    counter = {"n": 0}

    async def record(request: web.Request) -> dict:
        body = await request.json() if request.can_read_body else None
        call = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": request.headers.copy(),  # case-insensitive, like HTTP
            "body": body,
        }
        calls.append(call)
        return call

    async def counting(request: web.Request) -> web.Response:
        await record(request)
        counter["n"] += 1
        return web.json_response(3 * counter["n"])

    async def stargazers(request: web.Request) -> web.Response:
        await record(request)
        page = int(request.query["page"])
        return web.json_response(
            [
                {"starred_at": "2016-12-14T19:55:46Z", "user": {"login": f"old{page}", "id": 1}},
                {"starred_at": "2023-05-01T08:00:00Z", "user": {"login": f"new{page}", "id": 2}},
            ]
        )

    async def get_post(request: web.Request) -> web.Response:
        await record(request)
        post_id = int(request.match_info["id"])
        return web.json_response(
            {"userId": 1, "id": post_id, "title": "sunt aut facere", "body": "quia et suscipit"}
        )

    async def create_post(request: web.Request) -> web.Response:
        call = await record(request)
        return web.json_response({**call["body"], "id": 101}, status=201)

    async def put_post(request: web.Request) -> web.Response:
        call = await record(request)
        return web.json_response({**call["body"], "id": int(request.match_info["id"])})

    async def delete_post(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({})

    async def accept(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/counter", counting)
    app.router.add_get("/repos/ntflix/conductor/stargazers", stargazers)
    app.router.add_get("/posts/{id}", get_post)
    app.router.add_post("/posts/", create_post)
    app.router.add_put("/posts/{id}", put_post)
    app.router.add_delete("/posts/{id}", delete_post)
    app.router.add_post("/data", accept)
    app.router.add_post("/services/xxx", accept)
    server = TestServer(app)
    await server.start_server()
    server.calls = calls  # type: ignore[attr-defined]
    server.base = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    yield server
    await server.close()


# --- SWITCH (docs: operators/switch-task.md) -------------------------------------------------


@pytest.mark.parametrize(
    ("service", "branch"),
    [("fedex", "ship_via_fedex"), ("ups", "ship_via_ups"), ("dhl", "default_handler")],
)
async def test_switch_value_param(client, service: str, branch: str) -> None:
    await register(client, "switch_value_param_shipping")
    workflow_id = await begin(client, "switch_value_param_shipping", {"service": service})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), (branch, "SCHEDULED")]
    switch = run["tasks"][0]
    assert switch["outputData"] == {"evaluationResult": [service], "selectedCase": service}
    assert switch["inputData"] == {
        "switchCaseValue": service,
        "case": service,
        "hasChildren": "true",
    }
    await work(client, branch)
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


@pytest.mark.parametrize(("service", "case"), [("fedex", "fedex"), ("ups", "ups"), ("dhl", "ups")])
async def test_switch_javascript(client, service: str, case: str) -> None:
    await register(client, "switch_javascript_shipping")
    workflow_id = await begin(client, "switch_javascript_shipping", {"service": service})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), (f"ship_via_{case}", "SCHEDULED")]
    assert run["tasks"][0]["outputData"] == {"evaluationResult": [case], "selectedCase": case}
    await work(client, f"ship_via_{case}")
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


@pytest.mark.parametrize(("num", "case"), [("2", "tomatoes"), ("3", "oranges")])
async def test_switch_graaljs_matching_case(client, num: str, case: str) -> None:
    await register(client, "switch_graaljs_produce")
    workflow_id = await begin(client, "switch_graaljs_produce", {"num": num})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), (f"handle_{case}", "SCHEDULED")]
    assert run["tasks"][0]["outputData"] == {"evaluationResult": [case], "selectedCase": case}


async def test_switch_graaljs_unmatched_result_runs_the_empty_default(client) -> None:
    # The documented script returns "apple" while the case is named "apples": no case matches,
    # the default branch is empty, and the workflow simply completes.
    await register(client, "switch_graaljs_produce")
    workflow_id = await begin(client, "switch_graaljs_produce", {"num": "1"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("SWITCH", "COMPLETED")]
    assert run["tasks"][0]["outputData"] == {"evaluationResult": ["apple"], "selectedCase": "apple"}
    assert "hasChildren" not in run["tasks"][0]["inputData"]


# --- SWITCH / DECISION (test-harness SwitchTaskSpec, DecisionTaskSpec) -----------------------


@pytest.mark.parametrize(
    ("fixture", "name", "kind"),
    [
        ("harness_switch_workflow", "SwitchWorkflow", "SWITCH"),
        ("harness_decision_workflow", "DecisionWorkflow", "DECISION"),
    ],
)
async def test_harness_simple_switch_and_decision(client, fixture, name, kind) -> None:
    await register(client, fixture)
    workflow_input = {"param1": "p1", "param2": "p2", "case": "c"}
    workflow_id = await begin(client, name, workflow_input)
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING"
    assert shape(run) == [(kind, "COMPLETED"), ("integration_task_1", "SCHEDULED")]
    expected = (
        {"evaluationResult": ["c"], "selectedCase": "c"}
        if kind == "SWITCH"
        else {"caseOutput": ["c"]}
    )
    assert run["tasks"][0]["outputData"] == expected
    t1 = await work(client, "integration_task_1")
    assert t1["inputData"] == {"p1": "p1", "p2": "p2"}
    run = await workflow(client, workflow_id)
    assert shape(run)[1:] == [
        ("integration_task_1", "COMPLETED"),
        ("integration_task_2", "SCHEDULED"),
    ]
    await work(client, "integration_task_2")
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING"
    assert shape(run)[2:] == [
        ("integration_task_2", "COMPLETED"),
        ("integration_task_20", "SCHEDULED"),
    ]
    await work(client, "integration_task_20")
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert len(run["tasks"]) == 4


async def test_harness_switch_without_default_case(client) -> None:
    await register(client, "harness_switch_no_default_case")
    workflow_id = await begin(client, "SwitchWithNoDefaultCaseWF", {"param1": "p1", "param2": "p2"})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), ("integration_task_2", "SCHEDULED")]
    assert run["tasks"][0]["outputData"] == {"evaluationResult": ["null"], "selectedCase": "null"}
    await work(client, "integration_task_2")
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("SWITCH", "COMPLETED"), ("integration_task_2", "COMPLETED")]


async def test_harness_conditional_switch_default_case(client) -> None:
    await register(client, "harness_conditional_switch")
    workflow_id = await begin(client, "ConditionalTaskWF", {"param1": "xxx", "param2": "two"})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), ("integration_task_10", "SCHEDULED")]
    assert run["tasks"][0]["outputData"]["evaluationResult"] == ["xxx"]
    # Without `${}` the value is a literal string under schemaVersion 2.
    assert run["tasks"][1]["inputData"] == {"tp10": "workflow.input.param2"}
    await work(client, "integration_task_10")
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [
        ("SWITCH", "COMPLETED"),
        ("integration_task_10", "COMPLETED"),
        ("SWITCH", "COMPLETED"),
    ]
    assert run["tasks"][2]["outputData"]["evaluationResult"] == ["null"]


@pytest.mark.parametrize(
    ("case", "task_type"), [("two", "integration_task_2"), ("one", "integration_task_1")]
)
async def test_harness_conditional_switch_nested(client, case: str, task_type: str) -> None:
    await register(client, "harness_conditional_switch")
    workflow_id = await begin(client, "ConditionalTaskWF", {"param1": "nested", "param2": case})
    run = await workflow(client, workflow_id)
    assert shape(run) == [
        ("SWITCH", "COMPLETED"),
        ("SWITCH", "COMPLETED"),
        (task_type, "SCHEDULED"),
    ]
    assert run["tasks"][0]["outputData"]["evaluationResult"] == ["nested"]
    assert run["tasks"][1]["outputData"]["evaluationResult"] == [case]
    await work(client, task_type)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert len(run["tasks"]) == 4
    assert shape(run)[2:] == [(task_type, "COMPLETED"), ("SWITCH", "COMPLETED")]
    assert run["tasks"][3]["outputData"]["evaluationResult"] == ["null"]


async def test_harness_conditional_switch_three_then_notify(client) -> None:
    await register(client, "harness_conditional_switch")
    workflow_input = {"param1": "three", "param2": "two", "finalCase": "notify"}
    workflow_id = await begin(client, "ConditionalTaskWF", workflow_input)
    run = await workflow(client, workflow_id)
    assert shape(run) == [("SWITCH", "COMPLETED"), ("integration_task_3", "SCHEDULED")]
    assert run["tasks"][0]["outputData"]["evaluationResult"] == ["three"]
    await work(client, "integration_task_3")
    run = await workflow(client, workflow_id)
    assert shape(run)[1:] == [
        ("integration_task_3", "COMPLETED"),
        ("SWITCH", "COMPLETED"),
        ("integration_task_4", "SCHEDULED"),
    ]
    assert run["tasks"][2]["outputData"]["evaluationResult"] == ["notify"]
    await work(client, "integration_task_4")
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


# --- DECISION (docs: docs/docs/configuration/systask.md, 2020) -------------------------------


@pytest.mark.parametrize(
    ("movie_type", "first", "second"),
    [
        ("Show", "setup_episodes", "generate_episode_artwork"),
        ("Movie", "setup_movie", "generate_movie_artwork"),
    ],
)
async def test_decision_case_value_param(client, movie_type, first, second) -> None:
    await register(client, "decision_movie_type")
    workflow_input = {"movieType": movie_type, "movieId": "tt0111161"}
    workflow_id = await begin(client, "decision_movie_type", workflow_input)
    run = await workflow(client, workflow_id)
    assert shape(run) == [("DECISION", "COMPLETED"), (first, "SCHEDULED")]
    decision = run["tasks"][0]
    assert decision["outputData"] == {"caseOutput": [movie_type]}
    assert decision["inputData"]["case"] == movie_type
    task = await work(client, first)
    assert task["inputData"] == {"movieId": "tt0111161"}
    await work(client, second)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [
        ("DECISION", "COMPLETED"),
        (first, "COMPLETED"),
        (second, "COMPLETED"),
    ]


async def test_decision_without_a_matching_case_completes(client) -> None:
    await register(client, "decision_movie_type")
    workflow_id = await begin(client, "decision_movie_type", {"movieType": "Documentary"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("DECISION", "COMPLETED")]
    assert run["tasks"][0]["outputData"] == {"caseOutput": ["Documentary"]}


# --- EXCLUSIVE_JOIN (test-harness ExclusiveJoinSpec) ------------------------------------------


@pytest.mark.parametrize(
    ("workflow_input", "workers", "expected_types"),
    [
        (
            {"decision_1": "null"},
            [("integration_task_1", "task1")],
            ["integration_task_1", "DECISION", "EXCLUSIVE_JOIN"],
        ),
        (
            {"decision_1": "true", "decision_2": "null"},
            [("integration_task_1", "task1"), ("integration_task_2", "task2")],
            ["integration_task_1", "DECISION", "integration_task_2", "DECISION", "EXCLUSIVE_JOIN"],
        ),
        (
            {"decision_1": "true", "decision_2": "true"},
            [
                ("integration_task_1", "task1"),
                ("integration_task_2", "task2"),
                ("integration_task_3", "task3"),
            ],
            [
                "integration_task_1",
                "DECISION",
                "integration_task_2",
                "DECISION",
                "integration_task_3",
                "EXCLUSIVE_JOIN",
            ],
        ),
        (
            {"decision_1": "false", "decision_3": "null"},
            [("integration_task_1", "task1"), ("integration_task_4", "task4")],
            ["integration_task_1", "DECISION", "integration_task_4", "DECISION", "EXCLUSIVE_JOIN"],
        ),
        (
            {"decision_1": "false", "decision_3": "true"},
            [
                ("integration_task_1", "task1"),
                ("integration_task_4", "task4"),
                ("integration_task_5", "task5"),
            ],
            [
                "integration_task_1",
                "DECISION",
                "integration_task_4",
                "DECISION",
                "integration_task_5",
                "EXCLUSIVE_JOIN",
            ],
        ),
    ],
    ids=["default", "true-null", "true-true", "false-null", "false-true"],
)
async def test_harness_exclusive_join(client, workflow_input, workers, expected_types) -> None:
    await register(client, "harness_exclusive_join")
    workflow_id = await begin(client, "ExclusiveJoinTestWorkflow", workflow_input)
    run = await workflow(client, workflow_id)
    assert shape(run) == [("integration_task_1", "SCHEDULED")]
    for task_type, ref in workers:
        await work(client, task_type, {"taskReferenceName": ref})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert [t["taskType"] for t in run["tasks"]] == expected_types
    assert all(t["status"] == "COMPLETED" for t in run["tasks"])
    assert run["tasks"][-1]["outputData"]["taskReferenceName"] == workers[-1][1]


# --- FORK_JOIN / JOIN (docs: operators/fork-task.md, operators/join-task.md) -----------------

EMAIL_OUTPUT = {"email_sent_at": "2021-11-06T07:37:17+0000", "email_sent_to": "test@example.com"}
SMS_OUTPUT = {"sms_sent_at": "2021-11-06T07:37:17+0129", "sms_sent_to": "+1-425-555-0189"}


async def test_fork_join_notifications_join_waits_only_for_its_join_on(client) -> None:
    await register(client, "fork_join_notifications")
    workflow_id = await begin(client, "fork_join_notifications")
    run = await workflow(client, workflow_id)
    assert shape(run) == [
        ("FORK", "COMPLETED"),
        ("process_notification_payload", "SCHEDULED"),
        ("process_notification_payload", "SCHEDULED"),
        ("process_notification_payload", "SCHEDULED"),
        ("JOIN", "IN_PROGRESS"),
    ]
    assert [t["referenceTaskName"] for t in run["tasks"][1:4]] == [
        "process_notification_payload_email",
        "process_notification_payload_sms",
        "process_notification_payload_http",
    ]
    assert by_ref(run)["notification_join_ref"]["inputData"]["joinOn"] == [
        "email_notification_ref",
        "sms_notification_ref",
    ]
    for _ in range(3):
        await work(client, "process_notification_payload")
    await work(client, "email_notification", EMAIL_OUTPUT)
    await work(client, "sms_notification", SMS_OUTPUT)
    run = await workflow(client, workflow_id)
    join = by_ref(run)["notification_join_ref"]
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {
        "email_notification_ref": EMAIL_OUTPUT,
        "sms_notification_ref": SMS_OUTPUT,
    }
    # The http branch is not joined on, but the workflow still waits for it to finish.
    assert run["status"] == "RUNNING"
    assert by_ref(run)["http_notification_ref"]["status"] == "SCHEDULED"
    await work(client, "http_notification", {"status": 202})
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_join_ignoring_one_fork_has_the_documented_output(client) -> None:
    await register(client, "join_ignoring_one_fork")
    workflow_id = await begin(client, "join_ignoring_one_fork")
    await work(client, "sms_notification", SMS_OUTPUT)
    run = await workflow(client, workflow_id)
    assert by_ref(run)["notification_join_ref"]["status"] == "IN_PROGRESS"
    await work(client, "email_notification", EMAIL_OUTPUT)
    run = await workflow(client, workflow_id)
    join = by_ref(run)["notification_join_ref"]
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {
        "email_notification_ref": EMAIL_OUTPUT,
        "sms_notification_ref": SMS_OUTPUT,
    }
    assert run["status"] == "RUNNING"
    await work(client, "http_notification")
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_join_on_all_forks(client) -> None:
    await register(client, "join_all_forks")
    workflow_id = await begin(client, "join_all_forks")
    run = await workflow(client, workflow_id)
    assert shape(run) == [
        ("FORK", "COMPLETED"),
        ("my_task", "SCHEDULED"),
        ("my_task", "SCHEDULED"),
        ("JOIN", "IN_PROGRESS"),
    ]
    outputs = {"my_task_ref_1": {"outputKey": "one"}, "my_task_ref_2": {}}
    for _ in range(2):
        [task] = await poll(client, "my_task")
        response = await complete(client, task, output=outputs[task["referenceTaskName"]])
        assert response.status == 200
        await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    join = by_ref(run)["my_join_task_ref"]
    assert join["status"] == "COMPLETED"
    # Only joined tasks with a non-empty output appear in the JOIN output.
    assert join["outputData"] == {"my_task_ref_1": {"outputKey": "one"}}


# --- DO_WHILE (docs: operators/do-while-task.md; test-harness DoWhileSpec) --------------------


async def test_do_while_basic_script_runs_until_the_http_body_exceeds_ten(client, remote) -> None:
    await register(client, "do_while_basic_script_http", base_url=f"{remote.base}/counter")
    workflow_id = await begin(client, "do_while_basic_script_http", {"value": 1})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    loop = by_ref(run)["LoopTask"]
    assert loop["status"] == "COMPLETED"
    assert sorted(loop["outputData"]) == ["1", "2", "3", "iteration"]
    assert loop["outputData"]["iteration"] == 3
    for iteration, body in (("1", 3), ("2", 9), ("3", 15)):
        entry = loop["outputData"][iteration]
        assert sorted(entry) == ["first_task", "second_task"]
        assert entry["first_task"]["response"]["body"] == body
        assert entry["first_task"]["response"]["statusCode"] == 200
        assert entry["second_task"]["response"]["body"] == body + 3
    refs = [t["referenceTaskName"] for t in run["tasks"]]
    assert refs == [
        "LoopTask",
        "first_task__1",
        "second_task__1",
        "first_task__2",
        "second_task__2",
        "first_task__3",
        "second_task__3",
    ]
    assert [c["method"] for c in remote.calls] == ["POST"] * 6


async def test_do_while_basic_script_stops_while_iteration_is_below_value(client, remote) -> None:
    await register(client, "do_while_basic_script_http", base_url=f"{remote.base}/counter")
    workflow_id = await begin(client, "do_while_basic_script_http", {"value": 5})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert by_ref(run)["LoopTask"]["outputData"]["iteration"] == 1
    assert len(remote.calls) == 2


async def test_do_while_iteration_key_pages_through_stargazers(client, remote) -> None:
    await register(client, "do_while_github_stargazers", base_url=remote.base)
    workflow_input = {"gh_token": "gh-secret", "cutoff_date": "2020-01-01"}
    workflow_id = await begin(client, "do_while_github_stargazers", workflow_input)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    loop = by_ref(run)["get_all_stars_loop_ref"]
    assert loop["outputData"]["iteration"] == 40
    assert sorted(k for k in loop["outputData"] if k != "iteration") == sorted(
        str(i) for i in range(1, 41)
    )
    assert [c["query"] for c in remote.calls] == [
        {"page": str(i), "per_page": "100"} for i in range(1, 41)
    ]
    first = remote.calls[0]["headers"]
    assert first["Authorization"] == "token gh-secret"
    assert "application/vnd.github.v3.star+json" in first["Accept"]
    assert by_ref(run)["hundred_stargazers_ref__40"]["inputData"]["counter"] == 40
    jq = by_ref(run)["jq_cleanup_stars_ref"]
    # After the loop, `${hundred_stargazers_ref.output...}` is the last iteration's output.
    expected = [{"occurred_at": "2023-05-01T08:00:00Z", "member": {"github": "new40"}}]
    assert jq["outputData"] == {"result": expected, "resultList": [expected]}


async def test_do_while_counter_configuration(client) -> None:
    await register(client, "do_while_counter_config")
    workflow_id = await begin(client, "do_while_counter_config")
    for iteration in range(1, 6):
        [task] = await poll(client, "loop_step")
        assert task["referenceTaskName"] == f"loop_step_ref__{iteration}"
        assert task["iteration"] == iteration
        await complete(client, task, output={"n": iteration})
        await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    loop = run["tasks"][0]
    assert loop["outputData"] == {
        "iteration": 5,
        **{str(i): {"loop_step_ref": {"n": i}} for i in range(1, 6)},
    }


async def test_do_while_keep_last_n_keeps_the_last_five_of_a_thousand(client) -> None:
    await register(client, "do_while_keep_last_n")
    workflow_id = await begin(client, "do_while_keep_last_n")
    for iteration in range(1, 1001):
        [task] = await poll(client, "process_item")
        assert task["iteration"] == iteration
        await complete(client, task, output={"item": iteration})
        await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    loop = run["tasks"][0]
    assert loop["outputData"] == {
        "iteration": 1000,
        **{str(i): {"process_item_ref": {"item": i}} for i in range(996, 1001)},
    }
    assert [t["referenceTaskName"] for t in run["tasks"][1:]] == [
        f"process_item_ref__{i}" for i in range(996, 1001)
    ]


@pytest.mark.parametrize("loops", [1, 2])
async def test_harness_do_while_with_a_fork_inside(client, loops: int) -> None:
    await register(client, "harness_do_while")
    workflow_id = await begin(client, "Do_While_Workflow", {"loop": loops})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("DO_WHILE", "IN_PROGRESS"), ("integration_task_0", "SCHEDULED")]
    for iteration in range(1, loops + 1):
        await work(client, "integration_task_0")
        run = await workflow(client, workflow_id)
        assert shape(run)[-5:] == [
            ("integration_task_0", "COMPLETED"),
            ("FORK", "COMPLETED"),
            ("integration_task_1", "SCHEDULED"),
            ("integration_task_2", "SCHEDULED"),
            ("JOIN", "IN_PROGRESS"),
        ]
        await work(client, "integration_task_1")
        await work(client, "integration_task_2")
        run = await workflow(client, workflow_id)
        assert by_ref(run)[f"join__{iteration}"]["status"] == "COMPLETED"
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert len(run["tasks"]) == 1 + 5 * loops
    assert all(t["status"] == "COMPLETED" for t in run["tasks"])
    assert run["tasks"][0]["outputData"]["iteration"] == loops
    assert {t["referenceTaskName"] for t in run["tasks"][1:6]} == {
        "integration_task_0__1",
        "fork__1",
        "integration_task_1__1",
        "integration_task_2__1",
        "join__1",
    }
    assert all(t["iteration"] == 1 for t in run["tasks"][1:6])


# --- INLINE (docs: systemtasks/inline-task.md) ------------------------------------------------


async def test_inline_configuration_example(client) -> None:
    await register(client, "inline_sum")
    run = await workflow(client, await begin(client, "inline_sum"))
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"result": 3}


@pytest.mark.parametrize(("inline_value", "expected"), [(1, True), (2, False)])
async def test_inline_simple_example(client, inline_value: int, expected: bool) -> None:
    await register(client, "inline_testvalue")
    run = await workflow(
        client, await begin(client, "inline_testvalue", {"inlineValue": inline_value})
    )
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"result": {"testvalue": expected}}
    assert run["output"] == {"testvalue": expected}


@pytest.mark.parametrize(
    ("scale", "temperature", "expected"),
    [("F", 212, 100), ("F", 100, 37.77777777777778), ("C", 25, 25)],
)
async def test_inline_formatting_data(client, scale: str, temperature: int, expected) -> None:
    await register(client, "inline_celsius")
    workflow_input = {"tempScale": scale, "temperature": temperature}
    run = await workflow(client, await begin(client, "inline_celsius", workflow_input))
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"result": {"temperature": expected}}


# --- JSON_JQ_TRANSFORM (docs: systemtasks/json-jq-transform-task.md; JsonJQTransformSpec) -----


async def test_jq_configuration_example(client) -> None:
    await register(client, "jq_persons")
    run = await workflow(client, await begin(client, "jq_persons"))
    assert run["status"] == "COMPLETED"
    users = [
        {"user": {"email": "mail@mail.com", "id": 1}},
        {"user": {"email": "mail2@mail.com", "id": 2}},
    ]
    assert run["tasks"][0]["outputData"] == {"result": users, "resultList": [users]}


async def test_jq_simple_example_has_the_documented_output(client) -> None:
    await register(client, "jq_concat_arrays")
    run = await workflow(client, await begin(client, "jq_concat_arrays"))
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {
        "result": {"key3": ["a", "b", "c", "d"]},
        "resultList": [{"key3": ["a", "b", "c", "d"]}],
    }


async def test_harness_jq_transform_succeeds(client) -> None:
    await register(client, "harness_json_jq_transform")
    workflow_input = {"in1": {"array": ["a", "b"]}, "in2": {"array": ["c", "d"]}}
    run = await workflow(client, await begin(client, "test_json_jq_transform_wf", workflow_input))
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("JSON_JQ_TRANSFORM", "COMPLETED")]
    assert run["tasks"][0]["outputData"] == {
        "result": {"out": ["a", "b", "c", "d"]},
        "resultList": [{"out": ["a", "b", "c", "d"]}],
    }


async def test_harness_jq_transform_fails_with_jackson_jq_message(client) -> None:
    await register(client, "harness_json_jq_transform")
    workflow_input = {"in1": "a", "in2": "b"}
    run = await workflow(client, await begin(client, "test_json_jq_transform_wf", workflow_input))
    assert run["status"] == "FAILED"
    assert shape(run) == [("JSON_JQ_TRANSFORM", "FAILED")]
    assert run["tasks"][0]["reasonForIncompletion"] == 'Cannot index string with string "array"'


# --- SET_VARIABLE (docs: operators/set-variable-task.md; SetVariableTaskSpec) -----------------


async def test_set_variable_welcome_user(client) -> None:
    await register(client, "set_variable_welcome_user")
    workflow_id = await begin(client, "Welcome_User_Workflow", {"userName": "Ada"})
    run = await workflow(client, workflow_id)
    assert run["variables"] == {"name": "Ada"}
    assert shape(run) == [("SET_VARIABLE", "COMPLETED"), ("greet_user", "SCHEDULED")]
    assert run["tasks"][0]["outputData"] == {}
    greet = await work(client, "greet_user")
    assert greet["inputData"] == {"var_name": "Ada"}
    reminder = await work(client, "send_reminder_email")
    assert reminder["inputData"] == {"var_name": "Ada"}
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_harness_set_variable(client) -> None:
    await register(client, "harness_set_variable")
    run = await workflow(
        client, await begin(client, "test_set_variable_wf", {"var": "var_test_value"})
    )
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("SET_VARIABLE", "COMPLETED")]
    assert run["variables"] == {"var": "var_test_value"}
    assert run["output"] == {"variables": {"var": "var_test_value"}}


async def test_harness_set_variable_over_the_256_kb_limit(client) -> None:
    # SetVariableTaskSpec runs this with a 2 KB test limit; the documented default is 256 KB.
    limit_kb = 256
    await register(client, "harness_set_variable")
    value = "01234567" * (1 + limit_kb * 1024 // 8)
    workflow_id = await begin(client, "test_set_variable_wf", {"var": value})
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert shape(run) == [("SET_VARIABLE", "FAILED_WITH_TERMINAL_ERROR")]
    size = 17 + limit_kb * 1024 + 1
    assert run["tasks"][0]["reasonForIncompletion"] == (
        f"The variables payload size: {size} of workflow: {workflow_id} is greater than the "
        f"permissible limit: {limit_kb} kilobytes"
    )
    assert run["variables"] == {}
    assert run["output"] == {"variables": {}}


# --- TERMINATE (docs: operators/terminate-task.md; LambdaAndTerminateTaskSpec) ----------------


async def test_terminate_in_the_switch_default_case(client) -> None:
    await register(client, "terminate_switch_default_case")
    run = await workflow(
        client, await begin(client, "terminate_switch_default_case", {"service": "dhl"})
    )
    assert run["status"] == "FAILED"
    assert run["reasonForIncompletion"] == "Shipping provider not found."
    assert shape(run) == [("SWITCH", "COMPLETED"), ("TERMINATE", "COMPLETED")]
    assert run["tasks"][1]["outputData"] == {}
    assert run["output"] == {}


async def test_terminate_switch_known_provider_ships(client) -> None:
    await register(client, "terminate_switch_default_case")
    workflow_id = await begin(client, "terminate_switch_default_case", {"service": "ups"})
    await work(client, "ship_via_ups")
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


async def test_terminate_configuration_example(client) -> None:
    await register(client, "terminate_config")
    workflow_id = await begin(client, "terminate_config")
    await work(client, "some_task", {"shipped": False, "why": "out of stock"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "TERMINATED"
    terminate = by_ref(run)["terminate_ref"]
    assert terminate["status"] == "COMPLETED"
    assert terminate["outputData"] == {"shipped": False, "why": "out of stock"}
    assert run["output"] == {"shipped": False, "why": "out of stock"}
    # A blank terminationReason gets the default reason.
    assert run["reasonForIncompletion"] == (
        f"Workflow is TERMINATED by TERMINATE task: {terminate['taskId']}"
    )


async def test_harness_terminate_within_a_decision_branch(client) -> None:
    await register(client, "harness_decision_and_terminate")
    workflow_input = {"param1": "p1", "param2": "p2", "case": "two"}
    workflow_id = await begin(client, "ConditionalTerminateWorkflow", workflow_input)
    run = await workflow(client, workflow_id)
    assert shape(run) == [("integration_task_1", "SCHEDULED")]
    assert run["tasks"][0]["seq"] == 1
    await work(client, "integration_task_1", {"op": "task1 completed"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert run["output"] == {"output": "task1 completed"}
    assert "Workflow is FAILED by TERMINATE task" in run["reasonForIncompletion"]
    assert shape(run) == [
        ("integration_task_1", "COMPLETED"),
        ("DECISION", "COMPLETED"),
        ("TERMINATE", "COMPLETED"),
    ]
    assert [t["seq"] for t in run["tasks"]] == [1, 2, 3]


async def test_harness_decision_branch_without_terminate(client) -> None:
    await register(client, "harness_decision_and_terminate")
    workflow_input = {"param1": "p1", "param2": "p2", "case": "one"}
    workflow_id = await begin(client, "ConditionalTerminateWorkflow", workflow_input)
    await work(client, "integration_task_1", {"op": "task1 completed"})
    t2 = await work(client, "integration_task_2")
    assert t2["inputData"] == {"tp21": "p1"}
    t3 = await work(client, "integration_task_3", {"op": "t3 done"})
    assert t3["inputData"] == {"tp31": "p2"}
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"o2": "t3 done"}


# --- linear flow (test-harness SimpleWorkflowSpec, conductor-spec §9.2 #1-2) ----------------


async def test_harness_simple_workflow_completion(client) -> None:
    await register(client, "harness_simple_workflow_1")
    workflow_input = {"param1": "p1 value", "param2": "p2 value"}
    workflow_id = await begin(client, "integration_test_wf", workflow_input, "unit_test_1")
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING"
    assert shape(run) == [("integration_task_1", "SCHEDULED")]
    t1 = await work(client, "integration_task_1", {"op": "task1.done"})
    assert t1["inputData"]["p1"] == "p1 value" and t1["inputData"]["p2"] == "p2 value"
    assert t1["inputData"]["p3"] == t1["taskId"]
    assert t1["inputData"].get("someNullKey") is None
    run = await workflow(client, workflow_id)
    assert shape(run) == [("integration_task_1", "COMPLETED"), ("integration_task_2", "SCHEDULED")]
    t2 = await work(client, "integration_task_2")
    assert t2["inputData"] == {"tp1": "p1 value", "tp2": "task1.done", "tp3": t2["taskId"]}
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"o1": "p1 value", "o2": None, "o3": "task1.done"}


# --- SUB_WORKFLOW (docs: operators/sub-workflow-task.md) --------------------------------------

IMAGE_INPUT = {
    "fileLocation": "s3://images/cat.png",
    "recipeParameters": {"outputSize": {"width": 300, "height": 200}},
}


async def convert_images(client) -> None:
    for _ in range(2):
        [task] = await poll(client, "image_convert_resize")
        file_format = task["inputData"]["outputFormat"]
        output = {"fileLocation": f"s3://images/cat.{file_format}"}
        assert (await complete(client, task, output=output)).status == 200
        await drain(client)


async def test_sub_workflow_image_convert_as_documented_waits_on_a_missing_ref(client) -> None:
    # The documented JOIN waits on "upload_toS3_webp_ref", a reference no task has, so the JOIN
    # never completes even after both sub-workflows have.
    await register(client, "image_convert_resize", "sub_workflow_image_convert")
    workflow_id = await begin(client, "image_convert_resize_subworkflow1", IMAGE_INPUT)
    run = await workflow(client, workflow_id)
    subs = [t for t in run["tasks"] if t["taskType"] == "SUB_WORKFLOW"]
    assert [t["status"] for t in subs] == ["IN_PROGRESS", "IN_PROGRESS"]
    child = await workflow(client, by_ref(run)["subworkflow_jpg_ref"]["subWorkflowId"])
    assert child["input"] == {
        "fileLocation": "s3://images/cat.png",
        "recipeParameters": {"outputSize": {"width": 300, "height": 200}, "outputFormat": "jpg"},
    }
    assert child["parentWorkflowId"] == workflow_id
    await convert_images(client)
    run = await workflow(client, workflow_id)
    refs = by_ref(run)
    assert refs["subworkflow_jpg_ref"]["status"] == "COMPLETED"
    assert refs["subworkflow_webp_ref"]["status"] == "COMPLETED"
    assert refs["image_convert_resize_multipleformat_join_ref"]["status"] == "IN_PROGRESS"
    assert run["status"] == "RUNNING"


async def test_sub_workflow_image_convert_with_the_join_on_both_forks(client) -> None:
    await register(client, "image_convert_resize")
    definition = load("sub_workflow_image_convert")
    definition["tasks"][1]["joinOn"] = ["subworkflow_jpg_ref", "subworkflow_webp_ref"]
    await register_workflow(client, definition)
    workflow_id = await begin(client, "image_convert_resize_subworkflow1", IMAGE_INPUT)
    await convert_images(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["output"] == {
        "fileLocationJpg": "s3://images/cat.jpg",
        "fileLocationWebp": "s3://images/cat.webp",
    }
    jpg = by_ref(run)["subworkflow_jpg_ref"]
    assert jpg["outputData"] == {
        "fileLocation": "s3://images/cat.jpg",
        "subWorkflowId": jpg["subWorkflowId"],
    }
    join = by_ref(run)["image_convert_resize_multipleformat_join_ref"]
    assert sorted(join["outputData"]) == ["subworkflow_jpg_ref", "subworkflow_webp_ref"]


async def test_sub_workflow_static_inline_definition(client) -> None:
    await register(client, "sub_workflow_inline_static")
    workflow_id = await begin(client, "sub_workflow_inline_static", {"threshold": 7})
    run = await workflow(client, workflow_id)
    exec_task = by_ref(run)["exec"]
    assert exec_task["status"] == "IN_PROGRESS"
    task = await work(client, "some_task", {"result": "ok"})
    assert task["inputData"] == {"p1": 7}
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    exec_task = by_ref(run)["exec"]
    assert exec_task["outputData"] == {"result": "ok", "subWorkflowId": exec_task["subWorkflowId"]}
    child = await workflow(client, exec_task["subWorkflowId"])
    assert child["workflowName"] == "my_inline_workflow"
    # An inline (dynamic) definition marks the child's input.
    assert child["input"] == {"threshold": 7, "_systemMetadata": {"dynamic": True}}


async def test_sub_workflow_definition_from_an_expression(client) -> None:
    await register(client, "sub_workflow_inline_expression")
    plan = {
        "name": "dynamic_plan_wf",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "multiply",
                "taskReferenceName": "multiply",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "javascript",
                    "expression": "$.t * $.n",
                    "t": "${workflow.input.threshold}",
                    "n": "${workflow.input.iterations}",
                },
            }
        ],
        "outputParameters": {"product": "${multiply.output.result}"},
    }
    workflow_id = await begin(client, "parent_wf", {"goal": "g", "threshold": 3, "iterations": 7})
    planner = await work(client, "planner_task", {"workflow_def": plan})
    assert planner["inputData"] == {"goal": "g"}
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    exec_task = by_ref(run)["exec"]
    assert exec_task["outputData"] == {"product": 21, "subWorkflowId": exec_task["subWorkflowId"]}
    child = await workflow(client, exec_task["subWorkflowId"])
    assert child["workflowName"] == "dynamic_plan_wf"
    assert child["input"] == {"threshold": 3, "iterations": 7, "_systemMetadata": {"dynamic": True}}


# --- START_WORKFLOW (docs: operators/start-workflow-task.md; StartWorkflowSpec) ---------------


async def test_start_workflow_configuration_example(client) -> None:
    await register(client, "start_workflow_target", "start_workflow_config")
    workflow_id = await begin(client, "start_workflow_config", {}, "corr-1")
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    task = run["tasks"][0]
    assert task["taskType"] == "START_WORKFLOW" and task["status"] == "COMPLETED"
    assert list(task["outputData"]) == ["workflowId"]
    started = await workflow(client, task["outputData"]["workflowId"])
    assert started["workflowName"] == "someName"
    assert started["status"] == "RUNNING"
    assert started["input"] == {"someParameter": "someValue", "anotherParameter": "anotherValue"}
    # A blank correlationId in the request inherits the starter's.
    assert started["correlationId"] == "corr-1"
    assert "parentWorkflowId" not in started
    some_task = await work(client, "some_task")
    assert some_task["inputData"] == {"someParameter": "someValue"}


@pytest.mark.parametrize(
    "start_request",
    [
        {"name": "integration_test_wf", "input": {"param1": "value1", "param2": "value2"}},
        {
            "name": "dynamic_wf",
            "workflowDef": {
                "name": "dynamic_wf",
                "version": 1,
                "tasks": [
                    {
                        "name": "integration_task_1",
                        "taskReferenceName": "t1",
                        "type": "SIMPLE",
                        "inputParameters": {
                            "tp1": "${workflow.input.param1}",
                            "tp2": "${workflow.input.param2}",
                            "tp3": "${CPEWF_TASK_ID}",
                        },
                    },
                    {
                        "name": "integration_task_2",
                        "taskReferenceName": "t2",
                        "type": "SIMPLE",
                        "inputParameters": {
                            "tp1": "${workflow.input.param1}",
                            "tp2": "${t1.output.op}",
                            "tp3": "${CPEWF_TASK_ID}",
                        },
                    },
                ],
                "ownerEmail": "abc@abc.com",
            },
        },
    ],
    ids=["name-and-version", "workflow-definition"],
)
async def test_harness_start_another_workflow(client, start_request) -> None:
    await register(client, "harness_simple_workflow_1", "harness_start_another_workflow")
    workflow_id = await begin(
        client,
        "workflow_that_starts_another_workflow",
        {"startWorkflow": start_request},
        "starter-correlation",
    )
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("START_WORKFLOW", "COMPLETED")]
    started = await workflow(client, run["tasks"][0]["outputData"]["workflowId"])
    assert started["status"] == "RUNNING"
    assert started["workflowName"] == start_request["name"]
    assert started["correlationId"] == "starter-correlation"
    assert started["input"] is not None


async def test_harness_start_workflow_request_that_does_not_conform(client) -> None:
    await register(client, "harness_start_another_workflow")
    workflow_input = {"start_workflow": {"param1": "value1", "param2": "value2"}}
    run = await workflow(
        client, await begin(client, "workflow_that_starts_another_workflow", workflow_input)
    )
    assert run["status"] == "FAILED"
    assert shape(run) == [("START_WORKFLOW", "FAILED")]
    assert run["tasks"][0]["reasonForIncompletion"]


# --- DYNAMIC (docs: operators/dynamic-task.md) ------------------------------------------------


async def test_dynamic_shipping_flow_as_documented_is_refused(client) -> None:
    # The documented input reads `${shipping_info.output...}`, but `shipping_info` is the task
    # name, not its reference: Conductor's definition validation refuses the workflow.
    response = await client.post(
        "/api/metadata/workflow?overwrite=true", json=load("dynamic_shipping_flow")
    )
    assert response.status == 400
    messages = [error["message"] for error in (await response.json())["validationErrors"]]
    assert messages == [
        "taskReferenceName: shipping_info for given task: shipping_task input value: "
        "taskToExecute of input parameter: ${shipping_info.output.shipping_service} "
        "is not defined in workflow definition."
    ]


async def test_dynamic_task_with_a_null_task_name(client) -> None:
    await register_workflow(client, shipping_flow_by_reference())
    workflow_id = await begin(client, "Shipping_Flow")
    await work(client, "shipping_info", {"carrier": "unknown"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    assert run["reasonForIncompletion"] == (
        "Cannot map a dynamic task based on the parameter and input. "
        "Parameter= taskToExecute, input= {taskToExecute=null}"
    )


def shipping_flow_by_reference() -> dict:
    definition = load("dynamic_shipping_flow")
    definition["tasks"][1]["inputParameters"]["taskToExecute"] = (
        "${shipping_info_ref.output.shipping_service}"
    )
    return definition


@pytest.mark.parametrize("service", ["ship_via_fedex", "ship_via_ups"])
async def test_dynamic_shipping_flow_runs_the_named_task(client, service: str) -> None:
    await register_task_defs(client, {"name": "ship_via_fedex"}, {"name": "ship_via_ups"})
    await register_workflow(client, shipping_flow_by_reference())
    workflow_id = await begin(client, "Shipping_Flow")
    await work(client, "shipping_info", {"shipping_service": service})
    run = await workflow(client, workflow_id)
    dynamic = by_ref(run)["shipping_task_ref"]
    assert dynamic["taskType"] == service and dynamic["status"] == "SCHEDULED"
    assert dynamic["taskDefName"] == service
    assert dynamic["inputData"] == {"taskToExecute": service}
    await work(client, service, {"tracking": "1Z999"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"


async def test_dynamic_task_naming_an_unregistered_task(client) -> None:
    # The page says an unknown name fails the workflow ("Invalid task specified..."). Since
    # MetadataMapperService gives every workflow task an ad-hoc TaskDef (conductor-oss 9f0870f,
    # March 2026), the DYNAMIC task already has one, so the name is scheduled like any SIMPLE task.
    await register_workflow(client, shipping_flow_by_reference())
    workflow_id = await begin(client, "Shipping_Flow")
    await work(client, "shipping_info", {"shipping_service": "ship_via_pigeon"})
    run = await workflow(client, workflow_id)
    assert run["status"] == "RUNNING"
    dynamic = by_ref(run)["shipping_task_ref"]
    assert (dynamic["taskType"], dynamic["status"]) == ("ship_via_pigeon", "SCHEDULED")
    await work(client, "ship_via_pigeon")
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"


# --- HTTP (docs: systemtasks/http-task.md) ----------------------------------------------------


async def test_http_get_post_put_delete_examples(client, remote) -> None:
    await register(client, "http_methods", base_url=remote.base)
    run = await workflow(client, await begin(client, "http_methods", {"queryid": 1}))
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    assert shape(run) == [("HTTP", "COMPLETED")] * 4
    refs = by_ref(run)
    post = {"userId": 1, "id": 1, "title": "sunt aut facere", "body": "quia et suscipit"}
    get = refs["get_example"]["outputData"]["response"]
    assert get["statusCode"] == 200 and get["reasonPhrase"] == "OK"
    assert get["body"] == post
    assert get["headers"]["Content-Type"][0].startswith("application/json")
    created = refs["post_example"]["outputData"]["response"]
    assert created["statusCode"] == 201 and created["reasonPhrase"] == "Created"
    assert created["body"] == {
        "title": "sunt aut facere",
        "userId": 1,
        "action": "doSomething",
        "id": 101,
    }
    put = refs["put_example"]["outputData"]["response"]
    assert put["statusCode"] == 200
    assert put["body"]["action"] == "doSomethingDifferent"
    deleted = refs["delete_example"]["outputData"]["response"]
    assert deleted["statusCode"] == 200 and deleted["body"] == {}
    assert [(c["method"], c["path"]) for c in remote.calls] == [
        ("GET", "/posts/1"),
        ("POST", "/posts/"),
        ("PUT", "/posts/1"),
        ("DELETE", "/posts/1"),
    ]
    assert "application/json" in remote.calls[0]["headers"]["Accept"]
    assert remote.calls[1]["headers"]["Content-Type"].startswith("application/json")


async def test_http_configuration_example_sends_headers(client, remote) -> None:
    await register(client, "http_headers", base_url=remote.base)
    workflow_id = await begin(client, "http_headers", {"api_token": "t0k3n"}, "corr-42")
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED", run.get("reasonForIncompletion")
    response = run["tasks"][0]["outputData"]["response"]
    assert response["statusCode"] == 200 and response["body"] == {"ok": True}
    [call] = remote.calls
    assert call["headers"]["Authorization"] == "Bearer t0k3n"
    assert call["headers"]["X-Request-Id"] == "corr-42"
    assert call["body"] == {"key": "value"}


# --- HUMAN (docs: systemtasks/human-task.md) --------------------------------------------------


HUMAN_OUTPUT = {"data_key": "somedatatoWait1", "data_key2": "somedatatoWAit2"}


async def update_human(client, how: str, workflow_id: str, task: dict):
    if how == "task-result":
        return await complete(client, task, output=HUMAN_OUTPUT)
    return await client.post(f"/api/tasks/{workflow_id}/human_ref/COMPLETED", json=HUMAN_OUTPUT)


@pytest.mark.parametrize("how", ["task-result", "by-reference"])
async def test_human_task_completed_externally(client, how: str) -> None:
    await register(client, "human_config")
    workflow_id = await begin(client, "human_config")
    run = await workflow(client, workflow_id)
    assert shape(run) == [("HUMAN", "IN_PROGRESS")]
    assert await poll(client, "HUMAN") == []
    response = await update_human(client, how, workflow_id, run["tasks"][0])
    assert response.status == 200, await response.text()
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == HUMAN_OUTPUT


async def test_human_approval_workflow_as_documented_has_no_uri(client, remote) -> None:
    # The documented HTTP tasks use "url" where HttpTask reads "uri".
    await register(client, "human_approval_workflow", base_url=remote.base)
    run = await workflow(client, await begin(client, "approval_workflow", {"requestId": "R-7"}))
    assert run["status"] == "FAILED"
    assert shape(run) == [("HTTP", "FAILED")]
    assert run["tasks"][0]["reasonForIncompletion"] == (
        "Missing HTTP URI.  See documentation for HttpTask for required input parameters"
    )
    assert remote.calls == []


async def test_human_approval_workflow_with_uri(client, remote) -> None:
    definition = load("human_approval_workflow", remote.base)
    for index in (0, 2):
        request = definition["tasks"][index]["inputParameters"]["http_request"]
        request["uri"] = request.pop("url")
    await register_workflow(client, definition)
    workflow_id = await begin(client, "approval_workflow", {"requestId": "R-7"})
    run = await workflow(client, workflow_id)
    assert shape(run) == [("HTTP", "COMPLETED"), ("HUMAN", "IN_PROGRESS")]
    approval = {
        "status": "approved",
        "approvedBy": "user@example.com",
        "approvedAt": "2026-04-22T10:30:00Z",
        "comments": "Approved for production deployment",
    }
    assert (await complete(client, run["tasks"][1], output=approval)).status == 200
    await drain(client)
    run = await workflow(client, workflow_id)
    assert run["status"] == "COMPLETED"
    assert [c["body"] for c in remote.calls] == [
        {"text": "Approval needed for workflow R-7"},
        {"text": "Approval approved by user@example.com"},
    ]


# --- NOOP (docs: systemtasks/noop-task.md) ----------------------------------------------------


async def test_noop(client) -> None:
    await register(client, "noop")
    run = await workflow(client, await begin(client, "noop"))
    assert run["status"] == "COMPLETED"
    assert shape(run) == [("NOOP", "COMPLETED")]
