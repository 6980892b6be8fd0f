"""A timer that keeps failing to fire is not retried for ever: after five failures in a row its
workflow is terminated with the error as the reason, and a metric and a log line say so."""

from __future__ import annotations

import pytest

from conductor.api.keys import METRICS
from conductor.app import TIMER_SERVICE
from conductor.engine.decision import TimerKind
from conductor.timers.service import MAX_TIMER_FAILURES
from tests.conftest import fire_timers
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration

LEASE_S = 30


async def test_a_timer_failing_five_times_terminates_its_workflow(
    client, clock, caplog: pytest.LogCaptureFixture
) -> None:
    service = client.server.app[TIMER_SERVICE]
    attempts = []

    async def broken(timer) -> None:
        attempts.append(timer.key)
        raise RuntimeError("this handler always fails")

    service.handlers[TimerKind.SYSTEM_TASK] = broken
    await register_workflow(
        client,
        {
            "name": "wedged",
            "tasks": [
                {
                    "name": "i",
                    "taskReferenceName": "i",
                    "type": "INLINE",
                    "inputParameters": {"evaluatorType": "javascript", "expression": "1"},
                }
            ],
        },
    )
    workflow_id = await start(client, "wedged")
    for attempt in range(1, MAX_TIMER_FAILURES + 1):
        await fire_timers(client)
        assert len(attempts) == attempt
        if attempt < MAX_TIMER_FAILURES:
            assert (await workflow(client, workflow_id))["status"] == "RUNNING"
        clock.advance(LEASE_S)  # the lease runs out: the timer may fire again

    run = await workflow(client, workflow_id)
    assert run["status"] == "TERMINATED"
    assert run["reasonForIncompletion"] == (
        "Timer SYSTEM_TASK failed to fire 5 times in a row;"
        " last error: RuntimeError: this handler always fails"
    )
    clock.advance(LEASE_S)
    await fire_timers(client)
    assert len(attempts) == MAX_TIMER_FAILURES  # nothing left to retry
    quarantined = client.server.app[METRICS].registry.get_sample_value(
        "conductor_timers_quarantined_total", {"kind": "SYSTEM_TASK"}
    )
    assert quarantined == 1
    assert [r for r in caplog.records if r.getMessage().startswith("quarantining timer")]
