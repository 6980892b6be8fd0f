"""Sync system tasks through the pure decider: normal paths, failures, nesting."""

from __future__ import annotations

from conductor.engine.model import TaskStatus, WorkflowStatus
from tests.unit.engine.helpers import Run, simple


def switch(ref: str, expression: str, cases: dict, default: list | None = None, **params) -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": expression,
        "inputParameters": params,
        "decisionCases": cases,
        "defaultCase": default or [],
    }


def fork(ref: str, *branches: list, join_on: list[str]) -> list[dict]:
    return [
        {"name": ref, "taskReferenceName": ref, "type": "FORK_JOIN", "forkTasks": list(branches)},
        {
            "name": f"{ref}_join",
            "taskReferenceName": f"{ref}_join",
            "type": "JOIN",
            "joinOn": join_on,
        },
    ]


def by_ref(run: Run) -> dict:
    return {t.ref_name: t for t in run.state.tasks}


def complete(run: Run, ref: str, **output) -> None:
    task = by_ref(run)[ref]
    run.claim(task)
    run.result(task, TaskStatus.COMPLETED, output=output)


def test_switch_runs_the_matching_case_then_the_task_after_it() -> None:
    run = Run(
        [
            switch(
                "sw",
                "kind",
                {"a": [simple("in_a")], "b": [simple("in_b")]},
                kind="${workflow.input.k}",
            ),
            simple("after"),
        ]
    )
    run.state.input = {"k": "b"}
    run.start()
    tasks = by_ref(run)
    sw = tasks["sw"]
    assert sw.status is TaskStatus.COMPLETED and sw.task_type == "SWITCH"
    assert sw.output_data == {"evaluationResult": ["b"], "selectedCase": "b"}
    assert sw.input_data["case"] == "b" and sw.input_data["hasChildren"] == "true"
    assert set(tasks) == {"sw", "in_b"}
    complete(run, "in_b")
    assert "after" in by_ref(run)
    complete(run, "after")
    assert run.state.status is WorkflowStatus.COMPLETED


def test_switch_default_case_and_no_branch() -> None:
    run = Run(
        [switch("sw", "kind", {"a": [simple("in_a")]}, [simple("dflt")], kind="z"), simple("after")]
    )
    run.start()
    assert set(by_ref(run)) == {"sw", "dflt"}
    empty = Run([switch("sw", "kind", {"a": [simple("in_a")]}, kind=3), simple("after")])
    empty.start()
    assert set(by_ref(empty)) == {"sw", "after"}
    assert by_ref(empty)["sw"].output_data["selectedCase"] == "3"
    assert "hasChildren" not in by_ref(empty)["sw"].input_data


def test_switch_explicit_empty_case_runs_nothing_but_decision_falls_back_to_default() -> None:
    run = Run([switch("sw", "kind", {"a": []}, [simple("dflt")], kind="a"), simple("after")])
    run.start()
    assert set(by_ref(run)) == {"sw", "after"}
    decision = {
        "name": "d",
        "taskReferenceName": "d",
        "type": "DECISION",
        "caseValueParam": "kind",
        "inputParameters": {"kind": "a"},
        "decisionCases": {"a": []},
        "defaultCase": [simple("dflt")],
    }
    legacy = Run([decision, simple("after")])
    legacy.start()
    assert set(by_ref(legacy)) == {"d", "dflt"}
    assert by_ref(legacy)["d"].output_data == {"caseOutput": ["a"]}


def test_fork_join_waits_for_every_branch_and_collects_outputs() -> None:
    run = Run(
        [
            *fork("f", [simple("a1"), simple("a2")], [simple("b1")], join_on=["a2", "b1"]),
            simple("after"),
        ]
    )
    run.start()
    tasks = by_ref(run)
    assert tasks["f"].task_type == "FORK" and tasks["f"].status is TaskStatus.COMPLETED
    assert set(tasks) == {"f", "a1", "b1", "f_join"}
    join = tasks["f_join"]
    assert join.status is TaskStatus.IN_PROGRESS and join.input_data["joinOn"] == ["a2", "b1"]
    complete(run, "b1", v="b")
    complete(run, "a1", v="a1")
    assert join.status is TaskStatus.IN_PROGRESS
    complete(run, "a2", v="a2")
    assert join.status is TaskStatus.COMPLETED
    assert join.output_data == {"a2": {"v": "a2"}, "b1": {"v": "b"}}
    complete(run, "after")
    assert run.state.status is WorkflowStatus.COMPLETED


def test_a_failed_branch_fails_the_workflow_and_cancels_the_join() -> None:
    run = Run(
        [*fork("f", [simple("a")], [simple("b")], join_on=["a", "b"])],
        {"work": {"name": "work", "retryCount": 0}},
    )
    run.start()
    task = by_ref(run)["a"]
    run.claim(task)
    run.result(task, TaskStatus.FAILED, reason="broken")
    assert run.state.status is WorkflowStatus.FAILED
    assert by_ref(run)["f_join"].status is TaskStatus.CANCELED
    assert by_ref(run)["b"].status is TaskStatus.CANCELED


def test_an_optional_failed_branch_completes_the_join_with_errors() -> None:
    run = Run(
        [*fork("f", [simple("a", optional=True)], [simple("b")], join_on=["a", "b"])],
        {"work": {"name": "work", "retryCount": 0}},
    )
    run.start()
    task = by_ref(run)["a"]
    run.claim(task)
    run.result(task, TaskStatus.FAILED, reason="meh")
    complete(run, "b")
    join = by_ref(run)["f_join"]
    assert join.status is TaskStatus.COMPLETED_WITH_ERRORS
    assert run.state.status is WorkflowStatus.COMPLETED


def test_switch_nested_in_a_fork_branch() -> None:
    inner = switch("sw", "kind", {"x": [simple("x1")]}, [simple("other")], kind="x")
    run = Run([*fork("f", [inner, simple("tail")], [simple("b")], join_on=["tail", "b"])])
    run.start()
    complete(run, "x1")
    assert "tail" in by_ref(run)
    complete(run, "tail")
    complete(run, "b")
    assert run.state.status is WorkflowStatus.COMPLETED


def test_terminate_ends_the_workflow_with_its_output_and_status() -> None:
    terminate = {
        "name": "t",
        "taskReferenceName": "t",
        "type": "TERMINATE",
        "inputParameters": {
            "terminationStatus": "FAILED",
            "terminationReason": "no stock",
            "workflowOutput": {"code": "${workflow.input.x}"},
        },
    }
    run = Run([*fork("f", [terminate], [simple("slow")], join_on=["t", "slow"]), simple("never")])
    run.start()
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == "no stock"
    assert run.state.output == {"code": 1}
    assert by_ref(run)["slow"].status is TaskStatus.CANCELED
    assert "never" not in by_ref(run)


def test_terminate_completed_without_reason_and_non_map_output() -> None:
    terminate = {
        "name": "t",
        "taskReferenceName": "t",
        "type": "TERMINATE",
        "inputParameters": {"terminationStatus": "COMPLETED", "workflowOutput": 5},
    }
    run = Run([terminate, simple("never")])
    run.start()
    task = by_ref(run)["t"]
    assert run.state.status is WorkflowStatus.COMPLETED
    assert run.state.output == {"output": 5}
    assert (
        run.state.reason_for_incompletion
        == f"Workflow is COMPLETED by TERMINATE task: {task.task_id}"
    )


def test_terminate_with_a_bad_status_fails_the_task() -> None:
    terminate = {
        "name": "t",
        "taskReferenceName": "t",
        "type": "TERMINATE",
        "inputParameters": {"terminationStatus": "${workflow.input.x}"},
    }
    run = Run([terminate])
    run.start()
    assert by_ref(run)["t"].status is TaskStatus.FAILED
    assert run.state.status is WorkflowStatus.FAILED


def test_set_variable_and_noop() -> None:
    setter = {
        "name": "sv",
        "taskReferenceName": "sv",
        "type": "SET_VARIABLE",
        "inputParameters": {"count": "${workflow.input.x}", "name": "n"},
    }
    noop = {"name": "n", "taskReferenceName": "n", "type": "NOOP"}
    run = Run([setter, noop, simple("use", inputParameters={"c": "${workflow.variables.count}"})])
    decision = run.start()
    assert run.state.variables == {"count": 1, "name": "n"}
    assert decision.workflow_changed
    assert by_ref(run)["n"].status is TaskStatus.COMPLETED
    assert by_ref(run)["use"].input_data == {"c": 1}


def test_set_variable_over_the_size_limit_fails_terminally() -> None:
    setter = {
        "name": "sv",
        "taskReferenceName": "sv",
        "type": "SET_VARIABLE",
        "inputParameters": {"blob": "x" * (300 * 1024)},
    }
    run = Run([setter])
    run.start()
    task = by_ref(run)["sv"]
    assert task.status is TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert "greater than the permissible limit: 256 kilobytes" in task.reason_for_incompletion
    assert run.state.variables == {}
    assert run.state.status is WorkflowStatus.FAILED


def test_human_task_waits_for_an_external_update() -> None:
    run = Run([{"name": "approve", "taskReferenceName": "h", "type": "HUMAN"}, simple("after")])
    decision = run.start()
    human = by_ref(run)["h"]
    assert human.status is TaskStatus.IN_PROGRESS and not decision.pushes
    run.result(human, TaskStatus.IN_PROGRESS, output={"seen": True})
    assert human.status is TaskStatus.IN_PROGRESS
    run.result(human, TaskStatus.COMPLETED, output={"approved": True})
    assert "after" in by_ref(run)


def test_a_retried_branch_task_keeps_the_join_waiting() -> None:
    defs = {"work": {"name": "work", "retryCount": 1, "retryDelaySeconds": 0}}
    run = Run([*fork("f", [simple("a")], [simple("b")], join_on=["a", "b"])], defs)
    run.start()
    first = by_ref(run)["a"]
    run.claim(first)
    run.result(first, TaskStatus.FAILED, reason="flaky")
    join = by_ref(run)["f_join"]
    assert join.status is TaskStatus.IN_PROGRESS
    complete(run, "a", v=2)  # the retry (latest attempt of "a")
    complete(run, "b")
    assert join.status is TaskStatus.COMPLETED and join.output_data["a"] == {"v": 2}
    assert run.state.status is WorkflowStatus.COMPLETED


def test_dynamic_task_runs_the_worker_task_its_input_names() -> None:
    dynamic = {
        "name": "dyn",
        "taskReferenceName": "d",
        "type": "DYNAMIC",
        "dynamicTaskNameParam": "taskToExecute",
        "inputParameters": {"taskToExecute": "${workflow.input.which}", "n": 2},
    }
    run = Run([dynamic, simple("after")])
    run.state.input = {"which": "ship_it"}
    decision = run.start()
    task = by_ref(run)["d"]
    assert (task.task_type, task.task_def_name, task.queue_name) == (
        "ship_it",
        "ship_it",
        "ship_it",
    )
    assert [p.queue_name for p in decision.pushes] == ["ship_it"]
    complete(run, "d")
    assert "after" in by_ref(run)


def test_dynamic_task_without_a_name_fails_the_workflow() -> None:
    dynamic = {
        "name": "dyn",
        "taskReferenceName": "d",
        "type": "DYNAMIC",
        "dynamicTaskNameParam": "taskToExecute",
        "inputParameters": {"other": 1},
    }
    run = Run([dynamic])
    run.start()
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == (
        "Cannot map a dynamic task based on the parameter and input. "
        "Parameter= taskToExecute, input= {other=1}"
    )


def test_exclusive_join_takes_the_output_of_the_branch_that_ran() -> None:
    route = switch(
        "sw", "kind", {"a": [simple("a1")], "b": [simple("b1")]}, kind="${workflow.input.k}"
    )
    xjoin = {
        "name": "xj",
        "taskReferenceName": "xj",
        "type": "EXCLUSIVE_JOIN",
        "joinOn": ["a1", "b1"],
    }
    run = Run([route, xjoin])
    run.state.input = {"k": "b"}
    run.start()
    complete(run, "b1", picked="b")
    join = by_ref(run)["xj"]
    assert join.status is TaskStatus.COMPLETED and join.output_data == {"picked": "b"}
    assert run.state.status is WorkflowStatus.COMPLETED


def test_exclusive_join_falls_back_to_its_default_tasks() -> None:
    route = switch("sw", "kind", {"a": [simple("a1")]}, kind="none")
    xjoin = {
        "name": "xj",
        "taskReferenceName": "xj",
        "type": "EXCLUSIVE_JOIN",
        "joinOn": ["a1"],
        "defaultExclusiveJoinTask": ["first"],
    }
    run = Run([simple("first"), route, xjoin])
    run.start()
    complete(run, "first", seed=1)
    assert by_ref(run)["xj"].output_data == {"seed": 1}
    assert run.state.status is WorkflowStatus.COMPLETED


def test_a_human_task_failed_by_its_updater_fails_the_workflow() -> None:
    run = Run([{"name": "approve", "taskReferenceName": "h", "type": "HUMAN"}, simple("after")])
    run.start()
    run.result(by_ref(run)["h"], TaskStatus.FAILED, reason="rejected")
    assert run.state.status is WorkflowStatus.FAILED
    assert "rejected" in run.state.reason_for_incompletion
    assert "after" not in by_ref(run)


def test_a_failed_branch_before_an_exclusive_join_fails_the_workflow() -> None:
    route = switch("sw", "kind", {"a": [simple("a1", optional=False)]}, kind="a")
    xjoin = {"name": "xj", "taskReferenceName": "xj", "type": "EXCLUSIVE_JOIN", "joinOn": ["a1"]}
    run = Run([route, xjoin], {"work": {"name": "work", "retryCount": 0}})
    run.start()
    task = by_ref(run)["a1"]
    run.claim(task)
    run.result(task, TaskStatus.FAILED, reason="declined")
    # As in Conductor, a failed task without retries fails the workflow at once: the
    # EXCLUSIVE_JOIN after the branch is never reached.
    assert run.state.status is WorkflowStatus.FAILED
    assert "xj" not in by_ref(run)


def test_switch_with_a_missing_value_uses_the_string_null() -> None:
    run = Run([switch("sw", "kind", {"null": [simple("none")]}, [simple("dflt")])])
    run.start()
    assert set(by_ref(run)) == {"sw", "none"}


def test_a_fork_with_no_join_after_it_fails_the_run_as_conductors_mapper_does() -> None:
    [fork_task, _join] = fork("f", [simple("a")], [simple("b")], join_on=["a", "b"])
    run = Run([simple("first"), fork_task])
    run.start()
    complete(run, "first")
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == (
        "Fork task definition is not followed by a join task.  Check the blueprint"
    )
    assert set(by_ref(run)) == {"first"}  # nothing of the fork is scheduled


def test_a_dynamic_fork_with_no_join_after_it_fails_the_run() -> None:
    dynamic = {
        "name": "df",
        "taskReferenceName": "df",
        "type": "FORK_JOIN_DYNAMIC",
        "dynamicForkTasksParam": "tasks",
        "dynamicForkTasksInputParamName": "inputs",
        "inputParameters": {"tasks": [], "inputs": {}},
    }
    run = Run([dynamic, simple("after")])
    run.start()
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == (
        "Dynamic join definition is not followed by a join task.  Check the workflow definition."
    )


def test_a_switch_with_an_evaluator_this_server_lacks_fails_the_run() -> None:
    run = Run([{**switch("sw", "k", {"a": [simple("x")]}), "evaluatorType": "python"}])
    run.start()
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == "No evaluator registered for type: python"
    assert run.state.tasks == []
