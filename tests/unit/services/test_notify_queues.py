"""Default event queue messages: what a message names."""

from __future__ import annotations

import json

from conductor.services import notify_queues


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
