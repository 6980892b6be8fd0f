"""Every `conductor` client command against a live server, as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import wait_until_sync

pytestmark = [pytest.mark.e2e, pytest.mark.once]

WORKFLOW_DEF = {
    "name": "cli_billing",
    "version": 1,
    "ownerEmail": "ops@example.com",
    "tasks": [{"name": "cli_charge", "taskReferenceName": "charge", "type": "SIMPLE"}],
}
TASK_DEF = {"name": "cli_charge", "retryCount": 0, "ownerEmail": "ops@example.com"}


def conductor(server: ServerProcess, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    environment["CONDUCTOR_SERVER_URL"] = server.api
    done = subprocess.run(
        [sys.executable, "-m", "conductor", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def api(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.api}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw and raw[:1] in b"[{" else raw.decode()


def status_of(server: ServerProcess, workflow_id: str) -> str:
    return str(api(server, "GET", f"/workflow/{workflow_id}?includeTasks=false")["status"])


def test_definitions_register_and_export(server: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / "task.json").write_text(json.dumps([TASK_DEF]))
    (tmp_path / "workflow.json").write_text(json.dumps(WORKFLOW_DEF))
    done = conductor(
        server, "def", "register", str(tmp_path / "task.json"), str(tmp_path / "workflow.json")
    )
    assert "task definition cli_charge registered" in done.stdout
    assert "workflow definition cli_billing v1 registered" in done.stdout
    assert api(server, "GET", "/metadata/workflow/cli_billing")["tasks"][0]["name"] == "cli_charge"

    exported = json.loads(conductor(server, "def", "export").stdout)
    assert [d["name"] for d in exported["workflowDefs"]] == ["cli_billing"]
    assert "cli_charge" in [d["name"] for d in exported["taskDefs"]]
    # What export writes registers again as it is (an update, not a conflict).
    conductor(server, "def", "export", "-o", str(tmp_path / "all.json"))
    again = conductor(server, "def", "register", str(tmp_path / "all.json"), "--json")
    assert json.loads(again.stdout)["workflowDefs"] == [["cli_billing", 1]]

    (tmp_path / "broken.json").write_text("{not json")
    bad = conductor(server, "def", "register", str(tmp_path / "broken.json"), ok=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("conductor def register: ") and "is not JSON" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_workflow_commands_drive_a_run(server: ServerProcess) -> None:
    api(server, "POST", "/metadata/taskdefs", [TASK_DEF])
    api(server, "POST", "/metadata/workflow", WORKFLOW_DEF)

    workflow_id = conductor(
        server,
        "workflow",
        "start",
        "cli_billing",
        "--input",
        '{"customer": "c-1"}',
        "--correlation-id",
        "order-7",
    ).stdout.strip()
    run = api(server, "GET", f"/workflow/{workflow_id}")
    assert run["input"] == {"customer": "c-1"} and run["correlationId"] == "order-7"

    conductor(server, "workflow", "pause", workflow_id)
    assert status_of(server, workflow_id) == "PAUSED"
    conductor(server, "workflow", "resume", workflow_id)
    assert status_of(server, workflow_id) == "RUNNING"

    shown = conductor(server, "workflow", "show", workflow_id).stdout
    assert f"{workflow_id}  cli_billing v1" in shown
    assert "charge" in shown and "SCHEDULED" in shown
    assert (
        json.loads(conductor(server, "workflow", "show", workflow_id, "--json").stdout)[
            "workflowId"
        ]
        == workflow_id
    )

    done = conductor(server, "workflow", "terminate", workflow_id, "--reason", "customer left")
    assert done.stdout.strip() == f"{workflow_id} terminated"
    run = api(server, "GET", f"/workflow/{workflow_id}")
    assert run["status"] == "TERMINATED" and run["reasonForIncompletion"] == "customer left"

    conductor(server, "workflow", "retry", workflow_id)
    assert status_of(server, workflow_id) == "RUNNING"
    api(server, "DELETE", f"/workflow/{workflow_id}?reason=again")
    conductor(server, "workflow", "restart", workflow_id, "--use-latest-definition")
    assert status_of(server, workflow_id) == "RUNNING"

    wait_until_sync(
        lambda: (
            workflow_id in conductor(server, "workflow", "list", "--name", "cli_billing").stdout
        ),
        what="the run in the search index",
    )
    listed = conductor(server, "workflow", "list", "--status", "RUNNING", "--json").stdout
    assert [r["workflowId"] for r in json.loads(listed)["results"]] == [workflow_id]
    table = conductor(server, "workflow", "list").stdout.splitlines()
    assert table[0].split() == [
        "WORKFLOW",
        "ID",
        "TYPE",
        "VERSION",
        "STATUS",
        "STARTED",
        "(UTC)",
        "ENDED",
        "(UTC)",
    ]

    queues = json.loads(conductor(server, "queue", "list", "--json").stdout)
    assert {"queue": "cli_charge", "waiting": 1, "inProgress": 0} in queues
    assert "cli_charge" in conductor(server, "queue", "list").stdout


def test_schedule_commands(server: ServerProcess) -> None:
    api(
        server,
        "POST",
        "/metadata/workflow",
        {**WORKFLOW_DEF, "tasks": [{"name": "x", "taskReferenceName": "x", "type": "WAIT"}]},
    )
    api(
        server,
        "POST",
        "/scheduler/schedules",
        {
            "name": "nightly_billing",
            "cronExpression": "0 0 2 * * *",
            "startWorkflowRequest": {"name": "cli_billing", "version": 1},
        },
    )
    listed = conductor(server, "schedule", "list").stdout
    assert "nightly_billing" in listed and "0 0 2 * * *" in listed
    assert conductor(server, "schedule", "pause", "nightly_billing").stdout.strip() == (
        "schedule nightly_billing paused"
    )
    assert api(server, "GET", "/scheduler/schedules/nightly_billing")["paused"] is True
    conductor(server, "schedule", "resume", "nightly_billing")
    assert api(server, "GET", "/scheduler/schedules/nightly_billing")["paused"] is False
    [schedule] = json.loads(conductor(server, "schedule", "list", "--json").stdout)
    assert schedule["name"] == "nightly_billing"


def test_errors_are_one_line_and_a_failing_exit(server: ServerProcess) -> None:
    missing = conductor(server, "workflow", "show", "no-such-id", ok=False)
    assert missing.returncode == 1
    [line] = missing.stderr.strip().splitlines()
    assert line.startswith("conductor workflow show: HTTP 404:") and "no-such-id" in line

    unknown = conductor(server, "workflow", "start", "no_such_workflow", ok=False)
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr

    bad_input = conductor(server, "workflow", "start", "x", "--input", "[1]", ok=False)
    assert bad_input.stderr.strip() == "conductor workflow start: --input must be a JSON object"

    nobody = conductor(server, "queue", "list", "--server", "http://127.0.0.1:9/api", ok=False)
    assert nobody.returncode == 1
    [line] = nobody.stderr.strip().splitlines()
    assert "no Conductor server answers at http://127.0.0.1:9/api" in line


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conductor", "--version"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert done.stdout.startswith("conductor ") and done.stdout.strip().split()[1][0].isdigit()
