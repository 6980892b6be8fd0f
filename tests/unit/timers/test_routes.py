"""Every timer kind has a route, and the timer service will not run without its handlers."""

from __future__ import annotations

import pytest

from conductor.engine.decision import TimerKind
from conductor.engine.inputs import ChildReopened, TerminateWorkflow, TimerFired
from conductor.store.timers import ClaimedTimer
from conductor.timers.routes import HANDLER_KINDS, ROUTES, Firing
from conductor.timers.service import TimerService


def test_every_kind_has_a_route() -> None:
    assert set(ROUTES) == set(TimerKind)


@pytest.mark.parametrize("kind", list(TimerKind))
def test_a_route_says_how_its_kind_fires(kind: TimerKind) -> None:
    route = ROUTES[kind]
    assert (route.firing is Firing.BULK) == (route.to_input is not None)
    if route.own_limit:
        assert route.firing is Firing.HANDLER


def test_bulk_routes_turn_timers_into_decider_inputs() -> None:
    def timer(kind: TimerKind, payload: str | None = None) -> ClaimedTimer:
        return ClaimedTimer(f"{kind}:t1", "wf-1", "t1", kind.value, 0, payload)

    wait = ROUTES[TimerKind.WAIT].to_input
    terminate = ROUTES[TimerKind.TERMINATE_WORKFLOW].to_input
    reopened = ROUTES[TimerKind.SUBWORKFLOW_REOPENED].to_input
    assert wait and terminate and reopened
    assert wait(timer(TimerKind.WAIT)) == TimerFired(TimerKind.WAIT, "t1")
    assert terminate(timer(TimerKind.TERMINATE_WORKFLOW, "why")) == TerminateWorkflow("why")
    payload = '{"child": "c1", "operation": "retried"}'
    assert reopened(timer(TimerKind.SUBWORKFLOW_REOPENED, payload)) == ChildReopened(
        "t1", "c1", "retried"
    )
    with pytest.raises(ValueError, match="Expecting value"):
        reopened(timer(TimerKind.SUBWORKFLOW_REOPENED, "not json"))


def test_the_service_refuses_to_start_without_a_handler_for_each_handler_kind() -> None:
    async def handler(_timer: ClaimedTimer) -> None:
        return None

    some = {kind: handler for kind in sorted(HANDLER_KINDS)[1:]}
    with pytest.raises(ValueError, match="no handler for timer kinds"):
        TimerService(None, None, None, None, None, some)  # type: ignore[arg-type]
