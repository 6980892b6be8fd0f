"""The official JavaScript SDK (@io-orkes/conductor-javascript 4.0.0), unchanged, with API keys.

tests/e2e/js/auth_flow.mjs plays one role per node process, each given its key the way the SDK
reads it, from CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET (which win over any key in the
script, so one process cannot hold two keys). An operator key registers the definitions,
starts the workflow and waits for it to end; a worker key limited to the workflow's one task
type runs the SDK's TaskManager, which polls, executes and reports the task. Without a key the
same script is refused.

tests/e2e/js_sdk.py installs the pinned SDK on first use.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conductor.testing.server_process import ServerProcess
from tests.e2e.js_sdk import JS_DIR, node_env, node_result, run_script
from tests.e2e.keys import Key, create_key, request, token_for_key, wait_for_key

pytestmark = [pytest.mark.e2e, pytest.mark.once]

SCRIPT = JS_DIR / "auth_flow.mjs"
TASK_TYPE = "js_e2e_greet"
WORKFLOW = "js_e2e_greeting"
WORKER_ID = "js-sdk-e2e-worker"
SCRIPT_DEADLINE_S = 45  # the script's own; the subprocess timeout below is a backstop
NODE_TIMEOUT_S = SCRIPT_DEADLINE_S + 15.0


@dataclass(frozen=True)
class Keys:
    operator: Key
    worker: Key  # role worker, limited to TASK_TYPE


@pytest.fixture
def keys(server: ServerProcess) -> Keys:
    """Keys made with `conductor keys` while the server runs; waits until it accepts them."""
    made = Keys(
        operator=create_key(server.database_url, "--role", "operator", "--name", "js-ops"),
        worker=create_key(
            server.database_url, "--role", "worker", "--task-type", TASK_TYPE, "--name", "js"
        ),
    )
    for key in (made.operator, made.worker):
        wait_for_key(server, key)
    return made


def _node_env(server: ServerProcess, key: Key | None) -> dict[str, str]:
    if key is None:
        return node_env(server.api)
    return node_env(server.api, key.key_id, key.secret)


def _node_command(node: str, role: str, *options: str) -> list[str]:
    return [node, str(SCRIPT), role, "--task-type", TASK_TYPE, *options]


def _operator_command(node: str, person: str) -> list[str]:
    return _node_command(
        node,
        "operator",
        "--workflow",
        WORKFLOW,
        "--name",
        person,
        "--deadline-s",
        str(SCRIPT_DEADLINE_S),
    )


def _run(command: list[str], env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    return run_script(command, env, NODE_TIMEOUT_S)


def test_operator_and_task_scoped_worker_keys_run_a_workflow(
    node: str, server: ServerProcess, keys: Keys, tmp_path: Path
) -> None:
    worker_stdout, worker_stderr = tmp_path / "worker.out", tmp_path / "worker.err"
    with worker_stdout.open("w") as stdout, worker_stderr.open("w") as stderr:
        worker = subprocess.Popen(
            _node_command(
                node, "worker", "--worker-id", WORKER_ID, "--deadline-s", str(SCRIPT_DEADLINE_S)
            ),
            cwd=JS_DIR,
            env=_node_env(server, keys.worker),
            stdout=stdout,
            stderr=stderr,
        )
    try:
        code, run = _run(_operator_command(node, "Ada"), _node_env(server, keys.operator))
        if code != 0:
            worker.terminate()  # no task is coming: it reports what it saw and exits
        worker.wait(timeout=NODE_TIMEOUT_S)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    worked = node_result(worker_stdout.read_text(), worker_stderr.read_text())

    expected_output = {"greeting": "Hello, Ada!", "greetedBy": WORKER_ID}
    assert (code, run.get("status")) == (0, "COMPLETED"), f"operator: {run}\nworker: {worked}"
    assert run["output"] == expected_output
    [task] = run["tasks"]
    assert task == {
        "ref": "greet_ref",
        "taskType": TASK_TYPE,
        "status": "COMPLETED",
        "workerId": WORKER_ID,
    }
    assert worker.returncode == 0, worked
    assert worked["workflowId"] == run["workflowId"]
    assert worked["workerId"] == WORKER_ID

    token = token_for_key(server, keys.operator)
    status, stored = request(
        f"{server.api}/workflow/{run['workflowId']}?includeTasks=true", token=token
    )
    assert status == 200, stored
    assert (stored["status"], stored["output"]) == ("COMPLETED", expected_output)
    [stored_task] = stored["tasks"]
    assert stored_task["taskId"] == worked["taskId"]
    assert (stored_task["status"], stored_task["workerId"]) == ("COMPLETED", WORKER_ID)
    assert stored_task["outputData"] == expected_output


def test_without_a_key_the_sdk_is_refused(node: str, server: ServerProcess, keys: Keys) -> None:
    """Authentication is really on: with no key in its environment every call gets a 401."""
    refusal_status, refusal = request(f"{server.api}/metadata/taskdefs", [{"name": TASK_TYPE}])
    assert refusal_status == 401
    assert refusal["error"] == "INVALID_TOKEN"

    code, run = _run(_operator_command(node, "Eve"), _node_env(server, None))

    # The SDK's clients keep only the body's message of an error, not its status.
    assert code == 1
    assert run == {
        "ok": False,
        "role": "operator",
        "error": f"Failed to register task definitions: {refusal['message']}",
    }

    # The worker's poller keeps trying after a refusal; its last poll error has the status.
    code, worked = _run(_node_command(node, "worker", "--deadline-s", "2"), _node_env(server, None))

    assert code == 2
    assert worked["ok"] is False
    assert '"status":401' in worked["error"]


def test_a_worker_key_cannot_do_an_operators_work(
    node: str, server: ServerProcess, keys: Keys
) -> None:
    code, run = _run(_operator_command(node, "Mallory"), _node_env(server, keys.worker))

    assert code == 1
    assert run["ok"] is False
    assert run["error"] == (
        f"Failed to register task definitions: Key {keys.worker.key_id} (role worker)"
        " may not POST /api/metadata/taskdefs"
    )
    # Nor can it poll a task type outside its scope.
    token = token_for_key(server, keys.worker)
    status, body = request(f"{server.api}/tasks/poll/batch/other_type?count=1", token=token)
    assert status == 403, body
    assert (
        body["message"]
        == f"Key {keys.worker.key_id} may not work on other_type tasks outside a domain"
    )
