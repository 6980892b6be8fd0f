"""The official JavaScript SDK's event-handler and scheduler-admin calls (issue 13).

tests/e2e/js/admin_calls.mjs registers and removes an event handler for an SQS queue (which no
consumer here reads: stored all the same, as Conductor stores it) and pauses, resumes and
requeues the whole scheduler; the audit trail shows each call reached the server and was done.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from conductor.testing.server_process import ServerProcess
from tests.e2e.js_sdk import JS_DIR, node_env, run_script

pytestmark = [pytest.mark.e2e, pytest.mark.once]

NODE_TIMEOUT_S = 60.0


def test_event_handler_and_scheduler_admin_calls(node: str, server: ServerProcess) -> None:
    code, result = run_script(
        [node, str(JS_DIR / "admin_calls.mjs"), "--prefix", "js"],
        node_env(server.api),
        NODE_TIMEOUT_S,
    )
    assert code == 0 and result["ok"], result
    steps = result["steps"]
    assert steps["eventHandlers"] == [
        {"name": "js_on_order", "event": "sqs:js-orders", "active": True}
    ]
    assert steps["afterRemove"] == 0
    with urllib.request.urlopen(f"{server.api}/admin/audit?limit=10") as response:
        trail = json.load(response)
    actions = [entry["action"] for entry in reversed(trail)]
    assert actions[-3:] == [
        "GET /api/scheduler/admin/pause",
        "GET /api/scheduler/admin/resume",
        "GET /api/scheduler/admin/requeue",
    ]
