"""Start admission listens to the queues: while claims come in late, admitted starts are held
until claims are on time again (smoothed: one claim on time is not enough); with the target
off, or no late claim, nothing is held."""

from __future__ import annotations

import asyncio

from conductor.metrics import Metrics
from conductor.services.admission import StartAdmission


async def _turns(count: int = 20) -> None:
    """Let the event loop run other tasks a few times (no wall-clock wait)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def _start(admission: StartAdmission, entered: list[int], n: int) -> None:
    async with admission.slot():
        entered.append(n)


async def test_a_start_is_held_while_claims_are_late_and_goes_when_one_is_on_time() -> None:
    metrics = Metrics()
    admission = StartAdmission(metrics, concurrency=4, wait_target_ms=100)
    admission.note_claim_wait(2_000)
    entered: list[int] = []

    start = asyncio.create_task(_start(admission, entered, 1))
    await _turns()
    assert entered == [], "a start went ahead while running work was behind"

    admission.note_claim_wait(20)  # one claim on time: still behind, smoothed
    await _turns()
    assert entered == []

    for _ in range(10):
        admission.note_claim_wait(20)
    async with asyncio.timeout(5):
        await start
    assert entered == [1]
    assert metrics.registry.get_sample_value("conductor_starts_held_total") == 1


async def test_starts_are_not_held_without_late_claims_or_with_the_target_off() -> None:
    metrics = Metrics()
    on_time = StartAdmission(metrics, concurrency=4, wait_target_ms=100)
    on_time.note_claim_wait(50)
    switched_off = StartAdmission(metrics, concurrency=4, wait_target_ms=0)
    switched_off.note_claim_wait(60_000)
    entered: list[int] = []

    async with asyncio.timeout(5):
        await _start(on_time, entered, 1)
        await _start(switched_off, entered, 2)

    assert entered == [1, 2]
    assert metrics.registry.get_sample_value("conductor_starts_held_total") == 0


async def test_a_hold_that_runs_out_leaves_nothing_behind() -> None:
    admission = StartAdmission(Metrics(), concurrency=4, wait_target_ms=100)
    for _ in range(10):
        admission.note_claim_wait(2_000)
    entered: list[int] = []

    # No more claims: the late report goes stale and the starts go without a claim on time.
    async with asyncio.timeout(5):
        await asyncio.gather(*(_start(admission, entered, n) for n in range(3)))

    assert sorted(entered) == [0, 1, 2]
    assert not admission._held, "held starts that went on their own stayed in line"
