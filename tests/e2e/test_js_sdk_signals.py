"""The official JavaScript SDK's signals, sync updates and return strategies (issue 13).

tests/e2e/js/signals.mjs walks an approval run (a WAIT, a sub-workflow that waits, a last WAIT)
through executeWorkflow, signal, updateTaskSync and signalAsync, and prints what each answered.
"""

from __future__ import annotations

import pytest

from conductor.testing.server_process import ServerProcess
from tests.e2e.js_sdk import JS_DIR, node_env, run_script

pytestmark = [pytest.mark.e2e, pytest.mark.once]

NODE_TIMEOUT_S = 60.0


def test_signal_calls_of_the_js_sdk(node: str, server: ServerProcess) -> None:
    code, result = run_script(
        [node, str(JS_DIR / "signals.mjs"), "--prefix", "js_approval"],
        node_env(server.api),
        NODE_TIMEOUT_S,
    )
    assert code == 0 and result["ok"], result
    steps = result["steps"]
    assert steps["execute"] == {
        "responseType": "BLOCKING_TASK",
        "isBlockingTask": True,
        "ref": "first_wait",
        "requestId": "js_approval-request",
    }
    assert steps["signalIntoChild"] == {
        "isBlockingWorkflow": True,
        "isChild": True,
        "target": True,
        "refs": ["child_wait"],
    }
    assert steps["signalOutOfChild"] == {"isBlockingTaskInput": True, "ref": "last_wait"}
    assert steps["updateTaskSync"] == {
        "status": "COMPLETED",
        "output": {"approved": True},
        "lastOutput": {"by": "js"},
    }
    # The SDK's WorkflowExecutor sends a signal's output wrapped, as {"taskOutput": output}.
    assert steps["signalAsync"] == {"first": "COMPLETED", "output": {"taskOutput": {"quiet": True}}}
