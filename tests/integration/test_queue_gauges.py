"""Per-queue gauges: how many tasks are ready and how long the oldest has waited (what an
operator alerts on when workers fall behind, and the age of the oldest runnable task)."""

from __future__ import annotations

import pytest

from conductor.api.keys import POLLER
from tests.integration.api import poll, register_workflow, sequence, start

pytestmark = pytest.mark.integration


async def test_queue_gauges_show_ready_tasks_and_the_oldest_ones_wait(client, clock) -> None:
    """What an operator alerts on when workers fall behind: per queue, ready and waited."""
    await register_workflow(client, sequence("billing", "charge", task="charge_card"))
    for _ in range(3):
        await start(client, "billing")
    clock.advance(42)
    poller = client.server.app[POLLER]
    await poller.update_queue_gauges()
    metrics = await (await client.get("/metrics")).text()
    assert 'conductor_task_queue_ready{queue="charge_card"} 3.0' in metrics
    assert 'conductor_task_queue_oldest_ready_seconds{queue="charge_card"} 42.0' in metrics
    for _ in range(3):
        await poll(client, "charge_card")
    await poller.update_queue_gauges()
    metrics = await (await client.get("/metrics")).text()
    assert 'conductor_task_queue_ready{queue="charge_card"} 0.0' in metrics
    assert 'conductor_task_queue_oldest_ready_seconds{queue="charge_card"} 0.0' in metrics
