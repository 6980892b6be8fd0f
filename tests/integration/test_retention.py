"""Retention: finished workflows older than the policy go (with their tasks, queue rows, logs and
idempotency keys), oldest first and a batch at a time; running and recent ones stay."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from conductor.api.keys import CLOCK, METRICS, POOL
from conductor.services.retention import RetentionPolicy, RetentionService
from conductor.store.queries import QUERIES
from conductor.store.retention import purge
from tests.conftest import wait_until
from tests.integration.api import complete, poll, register_workflow, row_counts, sequence, start

pytestmark = pytest.mark.integration

DAY_S = 24 * 3600


def service(client, **policy) -> RetentionService:
    app = client.server.app
    defaults = {"max_age_days": 30, "batch": 2}
    return RetentionService(
        app[POOL], app[CLOCK], app[METRICS], RetentionPolicy(**{**defaults, **policy})
    )


async def finished_run(client, reason: str = "done", key: str | None = None) -> str:
    body: dict = {"name": "kept", "input": {"n": 1}}
    if key:
        body["idempotencyKey"] = key
    workflow_id = await (await client.post("/api/workflow", json=body)).text()
    response = await client.delete(f"/api/workflow/{workflow_id}", params={"reason": reason})
    assert response.status == 200
    return workflow_id


async def exists(client, workflow_id: str) -> bool:
    return (await client.get(f"/api/workflow/{workflow_id}")).status == 200


async def test_old_finished_workflows_go_in_batches_and_the_rest_stay(client, clock) -> None:
    await register_workflow(client, sequence("kept", "a", "b"))
    old = [await finished_run(client, key="k-0")]
    old.append(await finished_run(client))
    completed = await start(client, "kept")
    for _ in range(2):
        [task] = await poll(client, "work")
        assert (await client.post(f"/api/tasks/{task['taskId']}/log", data="a line")).status == 200
        assert (await complete(client, task)).status == 200
    old.append(completed)
    running = await start(client, "kept")
    clock.advance(31 * DAY_S)
    recent = await finished_run(client)
    before = await row_counts(client)
    purger = service(client)
    assert [await purger.run_once() for _ in range(3)] == [2, 1, 0]
    for workflow_id in old:
        assert not await exists(client, workflow_id)
    for workflow_id in (running, recent):
        assert await exists(client, workflow_id)
    after = await row_counts(client)
    assert after["workflow"] == before["workflow"] - 3
    assert after["task"] == before["task"] - 4  # one canceled task each, two completed
    assert after["task_log"] == before["task_log"] - 2
    assert after["task_queue"] == before["task_queue"]  # the running one's task is still queued
    # Its idempotency key went with it.
    response = await client.post("/api/workflow", json={"name": "kept", "idempotencyKey": "k-0"})
    assert response.status == 200
    text = await (await client.get("/metrics")).text()
    assert "conductor_workflows_purged_total 3.0" in text


async def test_archive_keeps_each_removed_run_as_one_document(client, clock, db_dsn) -> None:
    await register_workflow(client, sequence("kept", "a"))
    workflow_id = await finished_run(client, reason="archived")
    clock.advance(2 * DAY_S)
    assert await service(client, max_age_days=1, archive=True).run_once() == 1
    assert not await exists(client, workflow_id)
    conn = await asyncpg.connect(db_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT name, status, document FROM workflow_archive WHERE workflow_id = $1",
            workflow_id,
        )
    finally:
        await conn.close()
    assert row is not None and (row["name"], row["status"]) == ("kept", "TERMINATED")
    document = json.loads(row["document"])
    assert document["workflow"]["workflow_id"] == workflow_id
    assert document["workflow"]["body"]["reasonForIncompletion"] == "archived"
    assert [t["ref_name"] for t in document["tasks"]] == ["a"]


async def test_nothing_is_removed_before_its_time(client, clock) -> None:
    await register_workflow(client, sequence("kept", "a"))
    workflow_id = await finished_run(client)
    clock.advance(30 * DAY_S - 1)
    assert await service(client).run_once() == 0
    assert await exists(client, workflow_id)
    clock.advance(2)
    assert await service(client).run_once() == 1


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("retention_purge", (0, 10, ["WAIT"], False, 0)),
        ("workflow_delete", ("some-id", ["WAIT"])),
    ],
)
async def test_removals_find_timers_and_logs_by_index(db_dsn, query, args) -> None:
    """A removal must not scan the timer table (millions of rows) or the task logs."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("SET enable_seqscan = off")
        plan = str(await conn.fetchval("EXPLAIN (FORMAT JSON) " + QUERIES[query], *args))
    finally:
        await conn.close()
    assert "timer_pkey" in plan
    assert "task_log_task_idx" in plan


async def test_the_service_drains_a_backlog_and_tells_busy_from_idle(client, clock) -> None:
    await register_workflow(client, sequence("kept", "a"))
    old = [await finished_run(client) for _ in range(5)]
    clock.advance(31 * DAY_S)
    recent = await finished_run(client)
    work = [0]
    app = client.server.app
    purger = RetentionService(
        app[POOL],
        app[CLOCK],
        app[METRICS],
        RetentionPolicy(max_age_days=30, batch=2, pause_ms=1),
        hot_path_work=lambda: work[0],
    )
    assert not purger.hot_path_busy()
    work[0] += 3  # the hot path did something since the last look
    assert purger.hot_path_busy()
    assert not purger.hot_path_busy()
    running = asyncio.create_task(purger.run())

    async def all_gone() -> bool:
        return not any([await exists(client, workflow_id) for workflow_id in old])

    try:
        await wait_until(all_gone)
    finally:
        purger.stop()
        await running
    assert await exists(client, recent)


async def test_the_purge_reads_the_databases_row_write_counter(client, db_dsn) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        removed, before = await purge(conn, 0, 1, False, 0)
        assert removed == 0
        await conn.execute("CREATE TEMP TABLE scratch (n int)")
        await conn.execute("INSERT INTO scratch SELECT generate_series(1, 5)")
        await conn.execute("UPDATE scratch SET n = n + 1")
        await conn.execute("SELECT pg_stat_force_next_flush()")
        last = [before]

        async def counted() -> bool:
            last[0] = (await purge(conn, 0, 1, False, 0))[1]
            return last[0] >= before + 10

        await wait_until(counted)
    finally:
        await conn.close()
