"""TimerGate: sleeps until its deadline, wakes early only for an earlier timer."""

from __future__ import annotations

import asyncio

from conductor.timers.gate import TimerGate
from conductor.wakeups import Wakeups

NOW = 1_000_000


async def test_sleeps_the_full_time_without_news() -> None:
    gate = TimerGate(Wakeups())
    loop = asyncio.get_running_loop()
    began = loop.time()
    await gate.sleep(0.05, next_due_ms=None, now_ms=NOW)
    assert loop.time() - began >= 0.045


async def test_an_earlier_timer_wakes_the_sleeper() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    sleeper = asyncio.create_task(gate.sleep(30, next_due_ms=NOW + 30_000, now_ms=NOW))
    await asyncio.sleep(0)
    wakeups.timers_written(NOW + 1)
    await asyncio.wait_for(sleeper, timeout=1)
    assert wakeups.earliest_new_timer is None


async def test_a_timer_written_before_sleeping_shortens_the_sleep() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    wakeups.timers_written(NOW - 5)  # already due
    await asyncio.wait_for(gate.sleep(30, next_due_ms=NOW + 30_000, now_ms=NOW), timeout=1)


async def test_a_later_timer_does_not_cut_the_sleep_short_of_the_known_due_time() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    wakeups.timers_written(NOW + 60_000)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await gate.sleep(0.05, next_due_ms=NOW + 10, now_ms=NOW)
    assert loop.time() - began >= 0.045
