"""TimerGate: sleeps until its deadline, wakes early only for an earlier timer."""

from __future__ import annotations

import asyncio

from conductor.timers.gate import TimerGate
from conductor.wakeups import Wakeups

NOW = 1_000_000


async def elapsed(coro) -> float:
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(coro, timeout=5)
    return loop.time() - began


async def test_sleeps_the_full_time_without_news() -> None:
    gate = TimerGate(Wakeups())
    assert await elapsed(gate.sleep(0.05, now_ms=NOW)) >= 0.045


async def test_an_earlier_timer_wakes_the_sleeper() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    sleeper = asyncio.create_task(gate.sleep(30, now_ms=NOW))
    await asyncio.sleep(0)
    wakeups.timers_written(NOW + 1)
    await asyncio.wait_for(sleeper, timeout=1)


async def test_a_later_timer_does_not_wake_the_sleeper() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    sleeper = asyncio.create_task(gate.sleep(0.1, now_ms=NOW))
    await asyncio.sleep(0)
    wakeups.timers_written(NOW + 60_000)  # a lease far in the future
    done, _ = await asyncio.wait({sleeper}, timeout=0.05)
    assert not done
    await sleeper


async def test_a_due_timer_announced_before_sleeping_skips_the_sleep() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    wakeups.timers_written(NOW - 5)
    assert await elapsed(gate.sleep(30, now_ms=NOW)) < 1


async def test_an_announced_timer_shortens_the_next_sleep() -> None:
    wakeups = Wakeups()
    gate = TimerGate(wakeups)
    wakeups.timers_written(NOW + 50)
    assert 0.04 <= await elapsed(gate.sleep(30, now_ms=NOW)) < 1
