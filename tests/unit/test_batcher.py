"""The batcher behind group commit: what goes together, and what goes alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from conductor.group_commit import Batcher


class _Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.alone: list[int] = []

    async def run_batch(self, items: Sequence[int]) -> list[int | None]:
        self.batches.append(list(items))
        return [item * 10 for item in items]

    async def run_alone(self, item: int) -> int:
        self.alone.append(item)
        return item * 10


def _batcher(recorder: _Recorder, gather_released: bool) -> Batcher[int, int]:
    registry = CollectorRegistry()
    batcher: Batcher[int, int] = Batcher(
        "items",
        recorder.run_batch,
        recorder.run_alone,
        Histogram("sizes", "", registry=registry),
        Counter("fallbacks", "", registry=registry),
    )
    batcher.gather_released = gather_released
    return batcher


async def test_items_released_in_one_loop_turn_make_one_batch() -> None:
    recorder = _Recorder()
    batcher = _batcher(recorder, gather_released=True)

    answers = await asyncio.gather(*(batcher.submit(n) for n in range(6)))

    assert answers == [0, 10, 20, 30, 40, 50]
    assert recorder.batches == [[0, 1, 2, 3, 4, 5]] and recorder.alone == []


async def test_without_gathering_the_first_items_go_at_once_alone() -> None:
    """As task results go: one per free batch slot at once (two), the rest together."""
    recorder = _Recorder()
    batcher = _batcher(recorder, gather_released=False)

    answers = await asyncio.gather(*(batcher.submit(n) for n in range(6)))

    assert answers == [0, 10, 20, 30, 40, 50]
    assert recorder.alone == [0, 1]
    assert recorder.batches == [[2, 3, 4, 5]]


async def test_a_lone_item_still_goes_alone() -> None:
    recorder = _Recorder()
    batcher = _batcher(recorder, gather_released=True)

    assert await batcher.submit(7) == 70
    assert recorder.alone == [7] and recorder.batches == []


async def test_drain_answers_items_not_yet_formed_into_a_batch() -> None:
    recorder = _Recorder()
    batcher = _batcher(recorder, gather_released=True)
    submitted = [asyncio.ensure_future(batcher.submit(n)) for n in range(3)]
    await asyncio.sleep(0)  # one loop turn: the submits are queued, their batch not yet formed

    await batcher.drain()

    assert all(s.done() for s in submitted)
    assert [s.result() for s in submitted] == [0, 10, 20]
