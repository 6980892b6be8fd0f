"""Default event queue messages: what a message names, and which waiting task that is."""

from __future__ import annotations

import json

from conductor.engine.model import TaskStatus
from conductor.services import notify_queues
from tests.unit.engine.helpers import Run, simple


def wait(ref: str) -> dict:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT"}


def test_a_published_message_names_its_task_and_keeps_the_output() -> None:
    _, payload = notify_queues.message("wf-1", None, "hold", {"ok": 1})
    assert payload["ok"] == 1
    assert json.loads(payload["externalId"]) == {"workflowId": "wf-1", "taskRefName": "hold"}
    assert notify_queues.target(payload) == ("wf-1", None, "hold")
    _, payload = notify_queues.message("wf-1", "t9", None, {})
    assert notify_queues.target(payload) == ("wf-1", "t9", None)


def test_malformed_external_ids_name_nothing() -> None:
    for external in (None, 7, "not json", '"a string"', "{}", '{"workflowId": ""}', "[1]"):
        assert notify_queues.target({"externalId": external}) is None
    assert notify_queues.target({}) is None


def test_waiting_task_by_id_by_reference_or_the_first_wait() -> None:
    run = Run([simple("a"), wait("hold")])
    run.start()
    [a] = run.pending()
    assert notify_queues.waiting_task(run.state, a.task_id, None, run.now) is a
    assert notify_queues.waiting_task(run.state, None, "a", run.now) is a
    assert notify_queues.waiting_task(run.state, None, None, run.now) is None  # no WAIT yet
    run.claim(a)
    run.result(a, TaskStatus.COMPLETED)
    [hold] = run.pending()
    assert notify_queues.waiting_task(run.state, a.task_id, None, run.now) is None  # finished
    assert notify_queues.waiting_task(run.state, None, None, run.now) is hold
    # A loop iteration's reference matches with or without its suffix.
    hold.ref_name = "hold__2"
    assert notify_queues.waiting_task(run.state, None, "hold", run.now) is hold
    assert notify_queues.waiting_task(run.state, None, "hold__2", run.now) is hold
    assert notify_queues.waiting_task(run.state, None, "hold__1", run.now) is None
    # A message published before the task was scheduled (handled again after a crash, say)
    # does not reach it.
    assert notify_queues.waiting_task(run.state, None, "hold", hold.scheduled_time - 1) is None
