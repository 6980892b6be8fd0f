"""Security as a user meets it: the bind check, `conductor keys`, TLS, and the Python SDK with a
key and secret, each against a real server process."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from conductor.testing.server_process import free_port
from tests.e2e.harness import Servers, wait_until_sync
from tests.e2e.keys import (
    KEY_PICKUP_S,
    Key,
    conductor,
    create_key,
    request,
    token_for_key,
    wait_for_key,
)

pytestmark = [pytest.mark.e2e, pytest.mark.once]


def test_an_open_network_bind_without_keys_refuses_to_start(db_dsn: str) -> None:
    done = conductor(
        "server", "--host", "0.0.0.0", "--port", str(free_port()), "--database-url", db_dsn
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    refusals = [line for line in done.stderr.splitlines() if "refusing" in line]
    assert refusals == [done.stderr.strip().splitlines()[-1]]
    assert refusals[0].startswith("conductor: refusing to listen on 0.0.0.0:")
    assert "conductor keys create --role admin" in refusals[0]


def test_insecure_no_auth_starts_and_says_so(servers: Servers) -> None:
    [server] = servers.start(1, args=["--host", "0.0.0.0", "--insecure-no-auth"])
    status, _ = request(f"{server.api}/metadata/workflow")
    assert status == 200
    assert "authentication is OFF" in server.log_path.read_text()


def test_keys_made_by_the_cli_take_effect_on_a_running_server(
    servers: Servers, db_dsn: str
) -> None:
    [server] = servers.start(1)
    status, _ = request(f"{server.api}/token", {"keyId": "k", "keySecret": "s"})
    assert status == 404  # open mode until a key exists

    admin = create_key(db_dsn, "--role", "admin", "--name", "ops")
    admin_token = wait_for_key(server, admin)
    assert request(f"{server.api}/metadata/workflow")[0] == 401
    assert request(f"{server.api}/metadata/workflow", token=admin_token)[0] == 200

    listed = conductor("keys", "--database-url", db_dsn, "--json", "list")
    [entry] = json.loads(listed.stdout)
    assert entry["keyId"] == admin.key_id and entry["role"] == "admin"
    assert "keySecret" not in entry
    wait_until_sync(
        lambda: (
            json.loads(conductor("keys", "--database-url", db_dsn, "--json", "list").stdout)[0][
                "lastUsedTime"
            ]
            is not None
        ),
        KEY_PICKUP_S,
        what="last used time recorded",
    )
    table = conductor("keys", "--database-url", db_dsn, "list").stdout
    assert admin.key_id in table and "active" in table

    done = conductor("keys", "--database-url", db_dsn, "rotate", admin.key_id, "--json")
    rotated = Key(admin.key_id, json.loads(done.stdout)["keySecret"])
    assert rotated.secret != admin.secret
    wait_until_sync(lambda: token_for_key(server, admin) is None, KEY_PICKUP_S, what="rotation")
    assert token_for_key(server, rotated) is not None

    revoked = conductor("keys", "--database-url", db_dsn, "revoke", admin.key_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    wait_until_sync(lambda: token_for_key(server, rotated) is None, KEY_PICKUP_S, what="revocation")
    missing = conductor("keys", "--database-url", db_dsn, "revoke", "no-such-key")
    assert missing.returncode == 1 and "No API key" in missing.stdout


def test_with_keys_an_open_network_bind_starts(servers: Servers, db_dsn: str) -> None:
    create_key(db_dsn, "--role", "admin")
    [server] = servers.start(1, args=["--host", "0.0.0.0"])
    assert request(f"{server.api}/metadata/workflow")[0] == 401
    assert "authentication is OFF" not in server.log_path.read_text()


def test_tls(servers: Servers, tmp_path: Path) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert))
    certificate.private_key_pem.write_to_path(str(key))
    client = ssl.create_default_context()
    authority.configure_trust(client)
    [server] = servers.start(1, args=["--tls-cert", str(cert), "--tls-key", str(key)], tls=client)
    assert server.url.startswith("https://")
    with urllib.request.urlopen(f"{server.url}/health", context=client, timeout=10) as answer:
        assert answer.status == 200


def test_tls_needs_both_files(tmp_path: Path, db_dsn: str) -> None:
    done = conductor("server", "--database-url", db_dsn, "--tls-cert", str(tmp_path / "c.pem"))
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "conductor: --tls-cert and --tls-key go together: give both or neither"
    )


def test_python_sdk_with_key_and_secret(
    servers: Servers, db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conductor-python, unchanged, given CONDUCTOR_AUTH_KEY/SECRET: register, start, run; its
    workers need no more than a key with the worker role. Tokens live 3 s here, so the SDK's
    clients and workers also have to renew theirs on EXPIRED_TOKEN during the run."""
    from conductor.client.automator.task_handler import TaskHandler
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.configuration.settings.authentication_settings import (
        AuthenticationSettings,
    )
    from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
    from conductor.client.http.models.task_def import TaskDef
    from conductor.client.http.models.workflow_def import WorkflowDef
    from conductor.client.http.models.workflow_task import WorkflowTask
    from conductor.client.orkes_clients import OrkesClients

    from tests.e2e import sdk_workers

    [server] = servers.start(1, env={"CONDUCTOR_AUTH_TOKEN_TTL_SECONDS": "3"})
    operator = create_key(db_dsn, "--role", "operator")
    worker = create_key(db_dsn, "--role", "worker")
    wait_for_key(server, operator)
    monkeypatch.setenv("CONDUCTOR_AUTH_KEY", operator.key_id)
    monkeypatch.setenv("CONDUCTOR_AUTH_SECRET", operator.secret)
    configuration = Configuration(server_api_url=server.api)
    assert configuration.authentication_settings is not None
    clients = OrkesClients(configuration)
    metadata = clients.get_metadata_client()
    for name in (sdk_workers.PREPARE, sdk_workers.FINISH):
        metadata.register_task_def(TaskDef(name=name, retry_count=0))
    metadata.register_workflow_def(
        WorkflowDef(
            name="e2e_auth_flow",
            version=1,
            schema_version=2,
            tasks=[
                WorkflowTask(
                    name=sdk_workers.PREPARE,
                    task_reference_name="prepare_ref",
                    type="SIMPLE",
                    input_parameters={"value": "${workflow.input.value}"},
                ),
                WorkflowTask(
                    name=sdk_workers.FINISH,
                    task_reference_name="finish_ref",
                    type="SIMPLE",
                    input_parameters={"value": "${prepare_ref.output.value}"},
                ),
            ],
            output_parameters={"result": "${finish_ref.output.result}"},
        ),
        overwrite=True,
    )
    workflows = clients.get_workflow_client()
    workflow_id = workflows.start_workflow(
        StartWorkflowRequest(name="e2e_auth_flow", version=1, input={"value": 1})
    )
    worker_configuration = Configuration(
        server_api_url=server.api,
        authentication_settings=AuthenticationSettings(
            key_id=worker.key_id, key_secret=worker.secret
        ),
    )
    handler = TaskHandler(
        workers=[],
        configuration=worker_configuration,
        scan_for_annotated_workers=True,
        import_modules=[sdk_workers.__name__],
    )
    handler.start_processes()
    try:
        completed(workflows, workflow_id)
        # The workers' tokens expire while they keep polling: the server says EXPIRED_TOKEN,
        # they fetch new ones, and the next workflow runs as the first did.
        wait_until_sync(
            lambda: _polls_answered(server, "401") >= 1,
            30.0,
            interval=0.2,
            what="a worker's token expires",
        )
        second_id = workflows.start_workflow(
            StartWorkflowRequest(name="e2e_auth_flow", version=1, input={"value": 10})
        )
        completed(workflows, second_id)
    finally:
        handler.stop_processes()
    for run_id, result in ((workflow_id, 7), (second_id, 16)):
        finished = workflows.get_workflow(run_id, include_tasks=True)
        assert finished.output == {"result": result}
        assert {task.status for task in finished.tasks} == {"COMPLETED"}
    # It really went through authentication: an anonymous request is refused.
    assert request(f"{server.api}/workflow/{workflow_id}")[0] == 401


def completed(workflows, workflow_id: str) -> None:
    wait_until_sync(
        lambda: workflows.get_workflow(workflow_id, include_tasks=False).status == "COMPLETED",
        60.0,
        interval=0.2,
        what="the workflow completes through SDK workers",
    )


def _polls_answered(server, status: str) -> float:
    """How many task polls the server answered with this status, from its own /metrics (polls
    have their own histogram, apart from request latency)."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("conductor_task_poll_seconds_count{") and f'status="{status}"' in line
    )
