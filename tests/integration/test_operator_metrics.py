"""What operators alert on, read back from /metrics after real workflows: completed, failed,
timed out and limited work, with labels that stay bounded whatever ids pass through."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conductor.api.keys import METRICS, POOL
from conductor.services.work_gauges import WorkGauges
from tests.conftest import fire_timers
from tests.integration.api import (
    complete,
    poll,
    register_task_defs,
    register_workflow,
    sequence,
    start,
    workflow,
)

pytestmark = pytest.mark.integration


async def scrape(client) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample name -> {sorted label pairs: value}."""
    response = await client.get("/metrics")
    assert response.status == 200
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


async def test_a_completed_workflow_counts_its_task_and_durations(client, clock) -> None:
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    workflow_id = await start(client, "billing")
    clock.advance(3)  # three seconds in the queue
    [task] = await poll(client, "charge")
    clock.advance(2)  # two seconds at the worker
    assert (await complete(client, task)).status == 200
    assert (await workflow(client, workflow_id))["status"] == "COMPLETED"

    samples = await scrape(client)
    finished = {"task_type": "charge", "status": "COMPLETED"}
    assert value(samples, "conductor_tasks_finished_total", **finished) == 1
    assert value(samples, "conductor_task_execution_seconds_count", task_type="charge") == 1
    assert value(samples, "conductor_task_execution_seconds_sum", task_type="charge") == 2.0
    assert value(samples, "conductor_task_queue_wait_seconds_sum", task_type="charge") == 3.0
    run = {"workflow_type": "billing", "status": "COMPLETED"}
    assert value(samples, "conductor_workflow_duration_seconds_count", **run) == 1
    assert value(samples, "conductor_workflow_duration_seconds_sum", **run) == 5.0
    assert value(samples, "conductor_workflows_finished_total", **run) == 1
    assert value(samples, "conductor_task_updates_total", status="COMPLETED") == 1


async def test_failures_and_timeouts_are_counted_by_task_type(client, clock) -> None:
    await register_task_defs(
        client,
        {"name": "charge", "retryCount": 0},
        {
            "name": "ship",
            "retryCount": 0,
            "timeoutSeconds": 60,
            "responseTimeoutSeconds": 60,
            "timeoutPolicy": "TIME_OUT_WF",
        },
    )
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    await register_workflow(client, sequence("shipping", "ship_ref", task="ship"))
    failed_id = await start(client, "billing")
    timed_out_id = await start(client, "shipping")
    [charge] = await poll(client, "charge")
    await complete(client, charge, status="FAILED", reasonForIncompletion="card declined")
    [ship] = await poll(client, "ship")
    assert ship["taskType"] == "ship"
    clock.advance(61)
    await fire_timers(client)
    assert (await workflow(client, failed_id))["status"] == "FAILED"
    assert (await workflow(client, timed_out_id))["status"] == "TIMED_OUT"

    samples = await scrape(client)
    assert (
        value(samples, "conductor_tasks_finished_total", task_type="charge", status="FAILED") == 1
    )
    assert (
        value(samples, "conductor_tasks_finished_total", task_type="ship", status="TIMED_OUT") == 1
    )
    for workflow_type, status in (("billing", "FAILED"), ("shipping", "TIMED_OUT")):
        labels = {"workflow_type": workflow_type, "status": status}
        assert value(samples, "conductor_workflows_finished_total", **labels) == 1
        assert value(samples, "conductor_workflow_duration_seconds_count", **labels) == 1
    assert value(samples, "conductor_task_execution_seconds_sum", task_type="ship") == 61.0


async def test_rate_and_concurrency_limited_polls_are_counted(client, clock) -> None:
    await register_task_defs(
        client,
        {"name": "rated", "rateLimitPerFrequency": 1, "rateLimitFrequencyInSeconds": 60},
        {"name": "single", "concurrentExecLimit": 1},
    )
    await register_workflow(client, sequence("rated_wf", "a", task="rated"))
    await register_workflow(client, sequence("single_wf", "a", task="single"))
    for name in ("rated_wf", "rated_wf", "single_wf", "single_wf"):
        await start(client, name)
    assert len(await poll(client, "rated")) == 1
    assert await poll(client, "rated") == []
    assert len(await poll(client, "single")) == 1
    assert await poll(client, "single") == []
    assert await poll(client, "single") == []

    samples = await scrape(client)
    limited = "conductor_task_polls_limited_total"
    assert value(samples, limited, task_type="rated", limit="rate") == 1
    assert value(samples, limited, task_type="single", limit="concurrency") == 2
    # Polls are timed apart from request latency: a long poll waits by design.
    polls = {"task_type": "single", "status": "200"}
    assert value(samples, "conductor_task_poll_seconds_count", **polls) == 3
    routes = {
        dict(labels).get("route") for labels in samples["conductor_http_request_seconds_count"]
    }
    assert not [route for route in routes if route and "/poll" in route]


async def test_running_workflows_in_progress_tasks_and_pools_are_gauged(client) -> None:
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    for _ in range(3):
        await start(client, "billing")
    await poll(client, "charge")
    app = client.server.app
    await WorkGauges(app[POOL], app[METRICS]).update()

    samples = await scrape(client)
    running = {"workflow_type": "billing", "status": "RUNNING"}
    assert value(samples, "conductor_workflows_running", **running) == 3
    assert value(samples, "conductor_tasks_in_progress", task_type="charge") == 1
    assert value(samples, "conductor_db_pool_connections", pool="main") >= 1
    assert value(samples, "conductor_db_pool_connections_in_use", pool="main") >= 0
    assert value(samples, "process_resident_memory_bytes") > 0
    assert not [name for name in samples if name.endswith("_created")]


async def test_labels_stay_bounded_after_a_thousand_workflows(client) -> None:
    await register_workflow(client, sequence("billing", "charge_ref", task="charge"))
    ids = {await start(client, "billing", {"n": n}) for n in range(1000)}
    completed = 0
    while tasks := await poll(client, "charge", count=100):
        for task in tasks:
            ids.add(task["taskId"])
            assert (await complete(client, task)).status == 200
            completed += 1
    assert completed == 1000

    samples = await scrape(client)
    assert (
        value(
            samples,
            "conductor_workflows_finished_total",
            workflow_type="billing",
            status="COMPLETED",
        )
        == 1000
    )
    label_sets = {labels for series in samples.values() for labels in series}
    label_values = {v for labels in label_sets for _, v in labels}
    assert not label_values & ids
    # A few dozen series per family at most, whatever the number of workflows.
    assert max(len(series) for series in samples.values()) < 60
    assert sum(len(series) for series in samples.values()) < 1500
