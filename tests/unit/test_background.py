"""Background services: expected outages are retried in place; an unexpected error is logged,
counted and the service restarted with back-off by the supervisor."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conductor.background import BackgroundService, Periodic, Supervisor
from conductor.metrics import Metrics
from tests.conftest import wait_until


class Flaky(BackgroundService):
    """Raises each error in `errors` on successive rounds, then counts good rounds."""

    name = "flaky"

    def __init__(self, errors: list[BaseException]) -> None:
        super().__init__()
        self.errors = errors
        self.good_rounds = 0
        self.runs = 0
        self.closed = 0
        self.rests: list[float] = []

    async def run(self) -> None:
        self.runs += 1
        await super().run()

    async def step(self) -> float:
        if self.errors:
            raise self.errors.pop(0)
        self.good_rounds += 1
        return 0.001

    async def close(self) -> None:
        self.closed += 1

    async def rest(self, seconds: float) -> None:
        self.rests.append(seconds)
        await super().rest(min(seconds, 0.001))


def crashes(metrics: Metrics, service: str) -> float:
    value = metrics.registry.get_sample_value(
        "conductor_background_service_crashes_total", {"service": service}
    )
    return value or 0.0


async def test_a_crashed_service_is_logged_counted_and_restarted(caplog) -> None:
    metrics = Metrics()
    service = Flaky([RuntimeError("bug one"), KeyError("bug two")])
    supervisor = Supervisor(metrics, first_backoff_s=0.5, max_backoff_s=0.75)
    with caplog.at_level(logging.ERROR, logger="conductor.background"):
        supervisor.start(service)

        async def working_again() -> bool:
            return service.good_rounds >= 3

        await wait_until(working_again, timeout=5)
        await supervisor.stop()
    assert crashes(metrics, "flaky") == 2
    assert service.runs == 3  # started, and restarted after each crash
    assert service.closed == 3  # every run released what it held, crashed or not
    crash_lines = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert len(crash_lines) == 2
    assert all(r.exc_info is not None for r in crash_lines)  # with the traceback
    # The back-off doubles per crash, up to its cap.
    assert service.rests[:2] == [0.5, 0.75]


async def test_an_outage_is_retried_in_place_and_logged_once(caplog) -> None:
    metrics = Metrics()
    service = Flaky([OSError("connection refused")] * 3 + [TimeoutError()])
    supervisor = Supervisor(metrics)
    with caplog.at_level(logging.INFO, logger="conductor.background"):
        supervisor.start(service)

        async def recovered() -> bool:
            return service.good_rounds >= 1

        await wait_until(recovered, timeout=5)
        await supervisor.stop()
    assert crashes(metrics, "flaky") == 0
    assert service.runs == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "connection refused" in warnings[0].getMessage()
    assert any("working again" in r.getMessage() for r in caplog.records)
    assert service.rests[:4] == [0.05, 0.1, 0.2, 0.4]  # retry back-off doubles


async def test_stop_ends_a_long_rest_at_once() -> None:
    rounds = 0

    async def count() -> None:
        nonlocal rounds
        rounds += 1

    service = Periodic("slow", count, interval_s=3600)
    supervisor = Supervisor(Metrics())
    supervisor.start(service)

    async def first_round() -> bool:
        return rounds == 1

    await wait_until(first_round, timeout=5)
    async with asyncio.timeout(2):
        await supervisor.stop(grace_s=10)
    assert rounds == 1


async def test_a_service_that_ignores_stop_is_cancelled_after_the_grace() -> None:
    entered = asyncio.Event()

    class Stubborn(BackgroundService):
        name = "stubborn"

        async def step(self) -> float:
            entered.set()
            await asyncio.Event().wait()  # never returns
            return 0

    supervisor = Supervisor(Metrics())
    supervisor.start(Stubborn())
    async with asyncio.timeout(2):
        await entered.wait()
        await supervisor.stop(grace_s=0.01)


def test_a_round_must_be_defined() -> None:
    with pytest.raises(NotImplementedError):
        asyncio.run(BackgroundService().step())
