"""The server analyzes its hot tables once they have changed enough, so cached plans are made
again on statistics that describe them (services/table_statistics.py)."""

from __future__ import annotations

import pytest

from conductor.api.keys import METRICS, WORKFLOWS
from conductor.services.table_statistics import TableStatistics
from conductor.store import statistics
from tests.conftest import wait_until
from tests.integration.api import register_task_defs, register_workflow, sequence, start

pytestmark = pytest.mark.integration


async def _fill_until_task_is_stale(client) -> None:
    """60 rows each in workflow, task and task_queue (over 50 changes on never-analyzed tables),
    then wait until the statistics system has seen them (other sessions flush in about 1 s)."""
    pool = client.server.app[WORKFLOWS].pool
    await register_task_defs(client, {"name": "work", "retryCount": 0})
    await register_workflow(client, sequence("one_step", "only"))
    for _ in range(60):
        await start(client, "one_step")

    async def task_is_stale() -> bool:
        async with pool.acquire() as conn:
            return "task" in await statistics.stale_tables(conn)

    await wait_until(task_is_stale, timeout=30)


async def test_tables_changed_past_the_threshold_are_analyzed_once(client) -> None:
    pool = client.server.app[WORKFLOWS].pool
    await _fill_until_task_is_stale(client)
    service = TableStatistics(pool, client.server.app[METRICS])

    analyzed = await service.refresh()

    assert {"task", "task_queue", "workflow"} <= set(analyzed)
    async with pool.acquire() as conn:
        assert await statistics.stale_tables(conn) == []
    assert await service.refresh() == []
    counted = client.server.app[METRICS].registry.get_sample_value(
        "conductor_tables_analyzed_total", {"table": "task"}
    )
    assert counted == 1


async def test_only_hot_tables_can_be_analyzed(client) -> None:
    async with client.server.app[WORKFLOWS].pool.acquire() as conn:
        assert await statistics.analyze_stale(conn, ("task",)) == []
        with pytest.raises(ValueError, match="not a hot table"):
            await statistics.analyze_stale(conn, ("task", "workflow_def; DROP TABLE task"))


async def test_a_table_whose_lock_is_taken_is_left_for_the_next_round(client) -> None:
    """An autovacuum (here a transaction holding the same lock) is never waited for long: a
    lock wait of deadlock_timeout would make PostgreSQL cancel the autovacuum."""
    pool = client.server.app[WORKFLOWS].pool
    await _fill_until_task_is_stale(client)
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("LOCK TABLE task IN SHARE UPDATE EXCLUSIVE MODE")
        async with pool.acquire() as conn:
            analyzed = await statistics.analyze_stale(conn)
        assert "task" not in analyzed
        assert {"task_queue", "workflow"} <= set(analyzed)

    async with pool.acquire() as conn:
        assert await statistics.analyze_stale(conn) == ["task"]
