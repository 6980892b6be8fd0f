"""Log records made while a batch commits name the request it serves: its own for a batch of
one, none for a batch shared by several requests, never a bystander's."""

from __future__ import annotations

import asyncio
import contextvars

from conductor import logs
from conductor.group_commit import Batcher
from conductor.metrics import Metrics
from tests.conftest import wait_until


async def test_a_batch_names_its_own_request_or_none() -> None:
    seen: dict[str, str | None] = {}
    first_started, first_may_finish = asyncio.Event(), asyncio.Event()

    async def run_alone(item: str) -> str:
        seen[item] = logs.request_id.get()
        if item == "a":
            first_started.set()
            await first_may_finish.wait()
        return item

    async def run_batch(items) -> list[str | None]:
        for item in items:
            seen[item] = logs.request_id.get()
        return list(items)

    metrics = Metrics()
    batcher: Batcher[str, str] = Batcher(
        "test",
        run_batch,
        run_alone,
        metrics.group_commit_size,
        metrics.group_commit_fallbacks,
        max_in_flight=1,
    )

    def submitted(item: str, request_id: str) -> asyncio.Task[str]:
        context = contextvars.copy_context()
        context.run(logs.request_id.set, request_id)
        return asyncio.create_task(batcher.submit(item), context=context)

    first = submitted("a", "req-a")  # alone, and holds the only slot
    await asyncio.wait_for(first_started.wait(), 5)
    rest = [submitted("b", "req-b"), submitted("c", "req-c")]

    async def both_waiting() -> bool:
        return len(batcher._waiting) == 2

    await wait_until(both_waiting, timeout=5)
    first_may_finish.set()  # its slot frees: b and c go together, dispatched from a's task
    assert await asyncio.gather(first, *rest) == ["a", "b", "c"]
    assert seen == {"a": "req-a", "b": None, "c": None}
