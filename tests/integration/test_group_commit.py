"""Group commit of task results: results that arrive together share one transaction, and every
caller still hears exactly what it would have heard alone (its next task, a 404, a conflict)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conductor.api.keys import METRICS, RESULTS, STARTS
from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import TaskStatus, WorkflowState
from conductor.errors import NotFound
from conductor.executor import Transition
from conductor.wire.start_request import start_request
from tests.integration.api import (
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    workflow,
)

pytestmark = pytest.mark.integration

RUNS = 40


async def _setup(client, runs: int = RUNS) -> list[str]:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    return [await start(client, "two_steps") for _ in range(runs)]


def _result(task: dict[str, Any], output: dict[str, Any] | None = None) -> TaskResultReceived:
    return TaskResultReceived(
        task_id=task["taskId"],
        status=TaskStatus.COMPLETED,
        output=output or {"done": task["referenceTaskName"]},
        worker_id="w1",
    )


def _batch_sizes(client, histogram: str = "conductor_group_commit_size") -> tuple[float, float]:
    """(items grouped, group transactions) so far: task results, or starts."""
    registry = client.server.app[METRICS].registry
    total = registry.get_sample_value(f"{histogram}_sum") or 0.0
    batches = registry.get_sample_value(f"{histogram}_count") or 0.0
    return total, batches


async def test_results_arriving_together_share_transactions_and_each_claims_its_next(
    client,
) -> None:
    ids = await _setup(client)
    tasks = await poll(client, "work", count=RUNS)
    assert len(tasks) == RUNS
    results = client.server.app[RESULTS]

    answers: list[Transition] = await asyncio.gather(
        *(
            results.apply(task["workflowInstanceId"], _result(task), claim_next_for="w1")
            for task in tasks
        )
    )

    grouped, batches = _batch_sizes(client)
    assert grouped == RUNS
    assert batches < RUNS / 4, f"{RUNS} results took {batches} transactions"
    # Each result claimed one next task for the worker; no task was handed out twice.
    claimed = [c.task.task_id for answer in answers for c in answer.claimed]
    assert len(claimed) == RUNS and len(set(claimed)) == RUNS
    for workflow_id in ids:
        run = await workflow(client, workflow_id)
        statuses = {t["referenceTaskName"]: t["status"] for t in run["tasks"]}
        assert statuses == {"first": "COMPLETED", "second": "IN_PROGRESS"}
        first = next(t for t in run["tasks"] if t["referenceTaskName"] == "first")
        assert first["outputData"] == {"done": "first"}


async def test_bad_results_in_a_group_fail_alone_and_the_rest_commit(client) -> None:
    await _setup(client, runs=6)
    tasks = await poll(client, "work", count=6)
    results = client.server.app[RESULTS]
    unknown_task = {**tasks[0], "taskId": "no-such-task"}
    unknown_run = {**tasks[1], "workflowInstanceId": "no-such-run"}

    outcomes = await asyncio.gather(
        *(results.apply(t["workflowInstanceId"], _result(t)) for t in tasks),
        results.apply(unknown_task["workflowInstanceId"], _result(unknown_task)),
        results.apply("no-such-run", _result(unknown_run)),
        return_exceptions=True,
    )

    *good, missing_task, missing_run = outcomes
    assert all(isinstance(o, Transition) for o in good), good
    assert isinstance(missing_task, NotFound)
    assert str(missing_task) == "No such task found by id: no-such-task"
    assert isinstance(missing_run, NotFound)
    assert str(missing_run) == "Workflow with id: no-such-run not found."
    for task in tasks:
        run = await workflow(client, task["workflowInstanceId"])
        assert [t["status"] for t in run["tasks"]] == ["COMPLETED", "SCHEDULED"]


async def test_two_results_for_one_run_in_a_group_both_apply(client) -> None:
    await register_task_defs(client, {"name": "branch", "retryCount": 0})
    branches = [
        [{"name": "branch", "taskReferenceName": f"b{i}", "type": "SIMPLE"}] for i in range(4)
    ]
    await register_workflow(
        client,
        {
            "name": "fan",
            "version": 1,
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": branches,
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": [f"b{i}" for i in range(4)],
                },
            ],
        },
    )
    ids = [await start(client, "fan") for _ in range(5)]
    tasks = await poll(client, "branch", count=20)
    assert len(tasks) == 20
    results = client.server.app[RESULTS]

    await asyncio.gather(*(results.apply(t["workflowInstanceId"], _result(t)) for t in tasks))

    fallbacks = client.server.app[METRICS].registry.get_sample_value(
        "conductor_group_commit_fallbacks_total"
    )
    assert fallbacks is not None and fallbacks > 0  # same-run results went one by one
    for workflow_id in ids:
        run = await workflow(client, workflow_id)
        assert run["status"] == "COMPLETED", run["status"]


async def test_workers_over_http_complete_every_run_in_shared_transactions(client) -> None:
    ids = await _setup(client)

    async def work_through(task: dict[str, Any]) -> None:
        while task:
            body = {
                "workflowInstanceId": task["workflowInstanceId"],
                "taskId": task["taskId"],
                "status": "COMPLETED",
                "workerId": "w1",
                "outputData": {},
            }
            response = await client.post("/api/tasks/update-v2", json=body)
            assert response.status in (200, 204), await response.text()
            task = await response.json() if response.status == 200 else None

    first = await poll(client, "work", count=RUNS)
    await asyncio.gather(*(work_through(task) for task in first))
    leftover = await poll(client, "work", count=RUNS)
    await asyncio.gather(*(work_through(task) for task in leftover))

    for workflow_id in ids:
        assert (await workflow(client, workflow_id))["status"] == "COMPLETED"
    grouped, batches = _batch_sizes(client)
    assert grouped == 2 * RUNS
    assert batches < 2 * RUNS, "results sent together over HTTP never shared a transaction"


async def test_a_result_the_database_refuses_fails_alone(client) -> None:
    await _setup(client, runs=6)
    tasks = await poll(client, "work", count=6)
    results = client.server.app[RESULTS]
    *fine, bad = tasks
    unstorable = _result(bad, output={"text": "nul \u0000 inside"})

    # The first two go alone (nothing is committing yet); the rest, the bad one last, together.
    outcomes = await asyncio.gather(
        *(results.apply(t["workflowInstanceId"], _result(t)) for t in fine),
        results.apply(bad["workflowInstanceId"], unstorable),
        return_exceptions=True,
    )

    *good, refused = outcomes
    assert all(isinstance(o, Transition) for o in good), good
    assert isinstance(refused, Exception)
    assert (
        client.server.app[METRICS].registry.get_sample_value(
            "conductor_group_commit_fallbacks_total"
        )
        == 4
    )  # the failed group's four results, each alone
    refused_run = await workflow(client, bad["workflowInstanceId"])
    assert [t["status"] for t in refused_run["tasks"]] == ["IN_PROGRESS"]
    for task in fine:
        run = await workflow(client, task["workflowInstanceId"])
        assert [t["status"] for t in run["tasks"]] == ["COMPLETED", "SCHEDULED"]


async def test_next_tasks_claimed_together_go_to_the_worker_that_asked(client) -> None:
    """A batch claims each queue's next tasks for all its results at once; each worker still
    gets only tasks claimed in its name."""
    ids = await _setup(client, runs=6)
    extra = [await start(client, "two_steps") for _ in range(2)]
    tasks = await poll(client, "work", count=6)
    assert {t["workflowInstanceId"] for t in tasks} == set(ids)
    results = client.server.app[RESULTS]
    workers = ["wa", "wb"] * 3

    answers: list[Transition] = await asyncio.gather(
        *(
            results.apply(task["workflowInstanceId"], _result(task), claim_next_for=worker)
            for task, worker in zip(tasks, workers, strict=True)
        )
    )

    # 8 tasks were queued (6 seconds, 2 firsts of the extra runs): all 6 asked for got one.
    claimed = [(worker, c) for worker, a in zip(workers, answers, strict=True) for c in a.claimed]
    assert len(claimed) == 6
    assert len({c.task.task_id for _, c in claimed}) == 6
    for worker, stored in claimed:
        assert stored.task.worker_id == worker
    by_worker: dict[str, int] = {}
    for run_id in [*ids, *extra]:
        run = await workflow(client, run_id)
        for t in run["tasks"]:
            if t["status"] == "IN_PROGRESS":
                by_worker[t["workerId"]] = by_worker.get(t["workerId"], 0) + 1
    assert by_worker == {"wa": 3, "wb": 3}


def _start_sizes(client) -> tuple[float, float]:
    return _batch_sizes(client, "conductor_start_group_size")


async def test_starts_arriving_together_share_transactions(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    starts = client.server.app[STARTS]

    states = await asyncio.gather(
        *(
            starts.start(start_request({"name": "two_steps", "input": {"n": n}}))
            for n in range(RUNS)
        )
    )

    grouped, batches = _start_sizes(client)
    assert grouped == RUNS
    assert batches < RUNS / 4, f"{RUNS} starts took {batches} transactions"
    assert len({s.workflow_id for s in states}) == RUNS
    for n, state in enumerate(states):
        run = await workflow(client, state.workflow_id)
        assert run["status"] == "RUNNING" and run["input"] == {"n": n}
        assert [(t["referenceTaskName"], t["status"]) for t in run["tasks"]] == [
            ("first", "SCHEDULED")
        ]
    assert len(await poll(client, "work", count=RUNS + 5)) == RUNS


async def test_a_bad_start_in_a_group_fails_alone_and_the_rest_start(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    starts = client.server.app[STARTS]
    good = [start_request({"name": "two_steps"}) for _ in range(6)]

    outcomes = await asyncio.gather(
        *(starts.start(r) for r in good),
        starts.start(start_request({"name": "no_such_flow"})),
        starts.start(start_request({"name": "two_steps", "version": 7})),
        return_exceptions=True,
    )

    *started, unknown, wrong_version = outcomes
    assert all(isinstance(s, WorkflowState) for s in started), started
    assert isinstance(unknown, NotFound)
    assert str(unknown) == "No such workflow defined. name=no_such_flow, version=null"
    assert isinstance(wrong_version, NotFound)
    assert str(wrong_version) == "No such workflow defined. name=two_steps, version=7"
    assert len(await poll(client, "work", count=10)) == 6


async def test_starts_with_an_idempotency_key_go_alone(client) -> None:
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("two_steps", "first", "second"))
    starts = client.server.app[STARTS]
    keyed = {
        "name": "two_steps",
        "idempotencyKey": "order-7",
        "idempotencyStrategy": "RETURN_EXISTING",
    }

    states = await asyncio.gather(*(starts.start(start_request(keyed)) for _ in range(5)))

    assert len({s.workflow_id for s in states}) == 1
    assert _start_sizes(client) == (0.0, 0.0)
