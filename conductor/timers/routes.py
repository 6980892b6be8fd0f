"""How each timer kind fires: the one routing table, read by the timer service.

- BULK: the timer is one decider input to its workflow. Due timers of these kinds fire together,
  one transaction for a chunk of workflows (`Executor.transition_many`); one that cannot join a
  chunk fires alone through `Executor.transition`.
- HANDLER: the timer goes to the handler registered for its kind when the server is wired
  (the system-task runner, the workflow effects in timers/effects.py); the handler reports back
  through the transition path, which deletes the timer.
- QUEUE_WAKE: the timer wakes the long-polls of the queue named in its payload; no transition.

Adding a timer kind: a `TimerKind` member (engine/decision.py), a route here, and for a HANDLER
kind its handler in the wiring (conductor/wiring.py). tests/unit/timers/test_routes.py fails when
a kind has no route, and the timer service refuses to start without a handler for each HANDLER.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from conductor.engine.decision import TimerKind
from conductor.engine.inputs import ChildReopened, Input, TerminateWorkflow, TimerFired
from conductor.store.timers import ClaimedTimer


class Firing(Enum):
    BULK = "bulk"
    HANDLER = "handler"
    QUEUE_WAKE = "queue-wake"


@dataclass(frozen=True)
class TimerRoute:
    firing: Firing
    # BULK: the decider input the timer stands for (raises ValueError, KeyError or TypeError
    # for a malformed payload, and the timer is dropped).
    to_input: Callable[[ClaimedTimer], Input] | None = None
    # HANDLER: the handler bounds its own concurrency (isolation lanes), so it runs outside the
    # timer service's firing limit and a slow call out never holds up other timers.
    own_limit: bool = False


def _fired(timer: ClaimedTimer) -> Input:
    return TimerFired(TimerKind(timer.kind), timer.task_id)


def _terminate(timer: ClaimedTimer) -> Input:
    return TerminateWorkflow(timer.payload)


def _child_reopened(timer: ClaimedTimer) -> Input:
    payload = json.loads(timer.payload or "{}")
    return ChildReopened(timer.task_id or "", payload["child"], payload["operation"])


_DECIDE = TimerRoute(Firing.BULK, _fired)

ROUTES: dict[TimerKind, TimerRoute] = {
    TimerKind.WORKFLOW_TIMEOUT: _DECIDE,
    TimerKind.RESPONSE_TIMEOUT: _DECIDE,
    TimerKind.TASK_TIMEOUT: _DECIDE,
    TimerKind.POLL_TIMEOUT: _DECIDE,
    TimerKind.TOTAL_TIMEOUT: _DECIDE,
    TimerKind.WAIT: _DECIDE,
    TimerKind.QUEUE_VISIBLE: TimerRoute(Firing.QUEUE_WAKE),
    TimerKind.SYSTEM_TASK: TimerRoute(Firing.HANDLER, own_limit=True),
    TimerKind.SUBWORKFLOW_DONE: TimerRoute(Firing.HANDLER),
    TimerKind.SUBWORKFLOW_REOPENED: TimerRoute(Firing.BULK, _child_reopened),
    TimerKind.TERMINATE_WORKFLOW: TimerRoute(Firing.BULK, _terminate),
    TimerKind.FAILURE_WORKFLOW: TimerRoute(Firing.HANDLER),
    TimerKind.STATUS_LISTENER: TimerRoute(Firing.HANDLER, own_limit=True),
}

HANDLER_KINDS = frozenset(kind for kind, route in ROUTES.items() if route.firing is Firing.HANDLER)


_BY_NAME = {kind.value: route for kind, route in ROUTES.items()}


def route_of(kind: str) -> TimerRoute | None:
    """The route of a stored kind; None for a kind this build does not know."""
    return _BY_NAME.get(kind)
