"""Backoff delays and the slot counter behind "never claim more than free slots"."""

from __future__ import annotations

import asyncio
import random

import pytest

from workers import Backoff
from workers.slots import Slots


def test_backoff_doubles_with_jitter_and_caps():
    backoff = Backoff(base=0.2, factor=2.0, cap=1.0)
    rng = random.Random(7)
    for failures, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (200, 1.0)]:
        delay = backoff.delay(failures, rng)
        assert ceiling / 2 <= delay <= ceiling


async def test_slots_take_release_and_wait():
    slots = Slots(2)
    slots.take(2)
    assert slots.free == 0
    with pytest.raises(ValueError, match="cannot take"):
        slots.take(1)

    waiter = asyncio.create_task(slots.wait_free())
    # A negative check needs a window: with no slot free the waiter must stay blocked.
    done, _ = await asyncio.wait({waiter}, timeout=0.01)
    assert not done
    slots.release(1)
    await asyncio.wait_for(waiter, 1)
    assert slots.free == 1
    with pytest.raises(ValueError, match="cannot release"):
        slots.release(2)
