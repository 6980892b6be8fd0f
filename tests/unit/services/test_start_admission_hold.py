"""Start admission listens to the queues: while claims come in late, admitted starts are held
until claims are on time again (smoothed: one claim on time is not enough); with the target
off, or no late claim, nothing is held."""

from __future__ import annotations

import asyncio

from conductor.engine.decision import TimerIntent, TimerKind
from conductor.metrics import Metrics
from conductor.services.admission import (
    DUE_SOON_LIMIT,
    DUE_SOON_S,
    DUE_SOON_TTL_S,
    IDLE_AFTER_S,
    StartAdmission,
)


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


class _Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _enter_and_stay(admission: StartAdmission, inside: list[int], n: int) -> None:
    async with admission.slot():
        inside.append(n)
        await asyncio.Event().wait()  # stays until cancelled


async def test_the_gate_is_wide_only_while_few_timers_fall_due_soon() -> None:
    clock = _Monotonic()
    admission = StartAdmission(Metrics(), concurrency=6, busy_concurrency=2, monotonic=clock)
    inside: list[int] = []
    starts = [asyncio.create_task(_enter_and_stay(admission, inside, n)) for n in range(8)]
    await _turns()
    assert inside == [0, 1], "before any measure the server counts as busy"

    admission.note_timers_due_soon(DUE_SOON_LIMIT - 1)
    await _turns()
    assert inside == [0, 1, 2, 3, 4, 5], "waiting starts go in, in order, once it is calm"

    admission.note_timers_due_soon(DUE_SOON_LIMIT)
    for start in starts[:5]:
        start.cancel()
    await _turns()
    # Five left: one of the six is still inside, and one waiting start joins it (busy: 2).
    assert admission.running == 2 and inside == [0, 1, 2, 3, 4, 5, 6]

    admission.note_timers_due_soon(0)
    clock.now += DUE_SOON_TTL_S  # the measure goes stale: busy again
    assert admission.limit() == 2
    for start in starts:
        start.cancel()
    await asyncio.gather(*starts, return_exceptions=True)
    assert admission.running == 0


async def test_a_start_that_gives_up_while_waiting_frees_nothing_it_did_not_take() -> None:
    admission = StartAdmission(Metrics(), concurrency=1)
    inside: list[int] = []
    first = asyncio.create_task(_enter_and_stay(admission, inside, 1))
    second = asyncio.create_task(_enter_and_stay(admission, inside, 2))
    third = asyncio.create_task(_enter_and_stay(admission, inside, 3))
    await _turns()
    second.cancel()
    await _turns()
    assert inside == [1] and admission.running == 1 and admission.waiting == 1

    first.cancel()
    await _turns()
    assert inside == [1, 3] and admission.running == 1
    third.cancel()
    await asyncio.gather(first, second, third, return_exceptions=True)
    assert admission.running == 0 and admission.waiting == 0


def _timers(kind: TimerKind, fire_at: int, count: int) -> list[TimerIntent]:
    return [TimerIntent(kind, f"wf{n}", None, fire_at) for n in range(count)]


async def test_timers_written_due_soon_narrow_the_gate_before_the_next_measure() -> None:
    admission = StartAdmission(Metrics(), concurrency=16, busy_concurrency=4)
    admission.note_timers_due_soon(0)
    now = 1_000_000
    soon = now + (DUE_SOON_S - 1) * 1000
    # Deadlines (usually dropped unfired) and timers beyond the horizon do not count.
    admission.note_timers_written(_timers(TimerKind.RESPONSE_TIMEOUT, soon, DUE_SOON_LIMIT), now)
    admission.note_timers_written(_timers(TimerKind.WAIT, now + 3_600_000, DUE_SOON_LIMIT), now)
    assert admission.limit() == 16

    admission.note_timers_written(_timers(TimerKind.WAIT, soon, DUE_SOON_LIMIT - 1), now)
    assert admission.limit() == 16
    admission.note_timers_written(_timers(TimerKind.WAIT, soon, 1), now)
    assert admission.limit() == 4

    admission.note_timers_due_soon(10)  # the next measure counts what is in the table now
    assert admission.limit() == 16


def test_the_gate_opens_wider_while_no_task_is_claimed_and_closes_at_the_first_claim() -> None:
    clock = _Monotonic()
    admission = StartAdmission(
        Metrics(), concurrency=16, busy_concurrency=4, idle_concurrency=32, monotonic=clock
    )
    admission.note_timers_due_soon(0)
    assert admission.limit() == 32, "nothing claimed yet: starts have the server"

    admission.note_claim_wait(5)
    assert admission.limit() == 16, "workers are claiming: running work comes first"
    clock.now += IDLE_AFTER_S / 2
    assert admission.limit() == 16
    clock.now += IDLE_AFTER_S
    admission.note_timers_due_soon(0)
    assert admission.limit() == 32, "no claim for a while: idle again"

    admission.note_timers_due_soon(DUE_SOON_LIMIT)
    assert admission.limit() == 4, "timers due soon narrow it whatever the claims"


def test_claims_count_as_running_work_even_with_the_hold_switched_off() -> None:
    clock = _Monotonic()
    admission = StartAdmission(
        Metrics(), concurrency=16, idle_concurrency=32, wait_target_ms=0, monotonic=clock
    )
    admission.note_timers_due_soon(0)
    admission.note_claim_wait(500)
    assert admission.limit() == 16
