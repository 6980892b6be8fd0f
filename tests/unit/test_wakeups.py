"""Wake-ups: what a commit announces wakes local waiters, and reaches relays exactly when other
servers need it."""

from __future__ import annotations

from collections.abc import Collection

from conductor.wakeups import Wakeups


class RecordingRelay:
    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []

    def queues_ready(self, names: Collection[str]) -> None:
        self.heard.append(("queues", sorted(names)))

    def timers_written(self, earliest_fire_at: int) -> None:
        self.heard.append(("timers", earliest_fire_at))

    def workflow_finished(self, workflow_id: str) -> None:
        self.heard.append(("finished", workflow_id))

    def event_messages_written(self) -> None:
        self.heard.append(("events", None))


def _wired() -> tuple[Wakeups, RecordingRelay, list[int]]:
    wakeups, relay, timers = Wakeups(), RecordingRelay(), []
    wakeups.subscribe(relay)
    wakeups.add_timer_listener(timers.append)
    return wakeups, relay, timers


def test_ready_queues_wake_local_polls_and_are_relayed() -> None:
    wakeups, relay, _ = _wired()
    poll = wakeups.queues.waiter("billing")
    other = wakeups.queues.waiter("shipping")
    wakeups.queues_ready({"billing"})
    assert poll.is_set() and not other.is_set()
    assert relay.heard == [("queues", ["billing"])]


def test_written_timers_reach_the_timer_service_and_other_servers() -> None:
    wakeups, relay, timers = _wired()
    wakeups.timers_written(1_000)
    assert timers == [1_000]
    assert relay.heard == [("timers", 1_000)]


def test_a_timer_only_this_server_holds_is_not_relayed() -> None:
    wakeups, relay, timers = _wired()
    wakeups.timer_due(2_000)
    assert timers == [2_000]
    assert relay.heard == []


def test_only_a_finished_workflow_is_relayed() -> None:
    wakeups, relay, _ = _wired()
    waiting = wakeups.workflows.waiter("wf-1")
    wakeups.workflow_changed("wf-1")
    assert waiting.is_set()
    assert relay.heard == []
    waiting = wakeups.workflows.waiter("wf-1")
    wakeups.workflow_finished("wf-1")
    assert waiting.is_set()
    assert relay.heard == [("finished", "wf-1")]


def test_event_messages_wake_the_processor_and_are_relayed() -> None:
    wakeups, relay, _ = _wired()
    wakeups.event_messages_written()
    assert wakeups.event_messages.is_set()
    assert relay.heard == [("events", None)]


def test_notices_from_other_servers_wake_here_without_echo() -> None:
    from conductor.services.broadcast import CHANNEL, Broadcaster

    wakeups, relay, timers = _wired()
    broadcaster = Broadcaster("postgresql://unused", wakeups)
    poll = wakeups.queues.waiter("billing")
    caller = wakeups.workflows.waiter("wf-9")
    broadcaster._on_notice(None, 0, CHANNEL, "another-server\nq:billing\nw:wf-9\nt:1234\ne:")
    assert poll.is_set() and caller.is_set() and wakeups.event_messages.is_set()
    assert timers == [1234]
    assert relay.heard == []  # what came from elsewhere is not sent out again
