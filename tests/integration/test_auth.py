"""Authentication with API keys: tokens, revocation, rotation, worker scopes, the audit trail."""

from __future__ import annotations

import pytest

from conductor.api.keys import AUDIT, KEY_ADMIN, KEYRING
from conductor.roles import Role
from tests.integration.api import poll, register_workflow, sequence, start
from tests.integration.auth_helpers import auth, make_key, token_for
from workers import ConductorClient, ConductorError, TaskResult, TaskResultStatus

pytestmark = pytest.mark.integration


async def test_open_mode_answers_token_requests_with_404(client) -> None:
    """No keys: the SDKs read 404 on /api/token as "Conductor OSS" and send no tokens."""
    response = await client.post("/api/token", json={"keyId": "k", "keySecret": "s"})
    assert response.status == 404
    assert (await client.get("/api/metadata/workflow")).status == 200


async def test_a_key_turns_authentication_on(client) -> None:
    issued = await make_key(client, Role.VIEWER)
    refused = await client.get("/api/metadata/workflow")
    assert refused.status == 401
    body = await refused.json()
    assert body["error"] == "INVALID_TOKEN" and body["status"] == 401
    token = await token_for(client, issued)
    assert (await client.get("/api/metadata/workflow", headers=auth(token))).status == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/metadata/workflow", headers=bearer)).status == 200


async def test_wrong_secret_gets_no_token(client) -> None:
    issued = await make_key(client, Role.ADMIN)
    response = await client.post(
        "/api/token", json={"keyId": issued.key.key_id, "keySecret": issued.secret + "x"}
    )
    assert response.status == 401
    assert "token" not in await response.json()
    unknown = await client.post("/api/token", json={"keyId": "nobody", "keySecret": "x"})
    assert unknown.status == 401
    malformed = await client.post("/api/token", json={"keyId": 7})
    assert malformed.status == 400


async def test_expired_token_says_so(client, clock) -> None:
    token = await token_for(client, await make_key(client, Role.VIEWER))
    clock.advance(client.server.app[KEYRING].token_ttl_s + 1)
    response = await client.get("/api/metadata/workflow", headers=auth(token))
    assert response.status == 401
    assert (await response.json())["error"] == "EXPIRED_TOKEN"


async def test_revoked_and_rotated_keys_stop_working(client) -> None:
    admin = client.server.app[KEY_ADMIN]
    first, second = await make_key(client, Role.VIEWER), await make_key(client, Role.VIEWER)
    first_token, second_token = await token_for(client, first), await token_for(client, second)
    await admin.revoke(first.key.key_id)
    assert (await client.get("/api/metadata/workflow", headers=auth(first_token))).status == 401
    old_secret = await client.post(
        "/api/token", json={"keyId": first.key.key_id, "keySecret": first.secret}
    )
    assert old_secret.status == 401

    rotated = await admin.rotate(second.key.key_id)
    assert (await client.get("/api/metadata/workflow", headers=auth(second_token))).status == 401
    stale = await client.post(
        "/api/token", json={"keyId": second.key.key_id, "keySecret": second.secret}
    )
    assert stale.status == 401
    fresh = await token_for(client, rotated)
    assert (await client.get("/api/metadata/workflow", headers=auth(fresh))).status == 200


async def test_every_use_of_a_key_moves_its_last_used_time(client, clock) -> None:
    issued = await make_key(client, Role.VIEWER)
    token = await token_for(client, issued)
    clock.advance(60)
    assert (await client.get("/api/metadata/workflow", headers=auth(token))).status == 200
    await client.server.app[KEYRING].refresh()
    [key] = [k for k in await client.server.app[KEY_ADMIN].keys() if k.key_id == issued.key.key_id]
    assert key.last_used_ms == clock.now_ms()


async def test_admin_api_manages_keys(client) -> None:
    admin_token = await token_for(client, await make_key(client, Role.ADMIN))
    headers = auth(admin_token)
    created = await client.post(
        "/api/admin/keys",
        json={"role": "worker", "name": "billing workers", "taskTypes": ["charge"]},
        headers=headers,
    )
    assert created.status == 200, await created.text()
    body = await created.json()
    assert body["role"] == "worker" and body["taskTypes"] == ["charge"] and body["keySecret"]
    listed = await (await client.get("/api/admin/keys", headers=headers)).json()
    assert {k["keyId"] for k in listed} >= {body["keyId"]}
    assert all("keySecret" not in k and "secret_hash" not in str(k) for k in listed)
    rotated = await client.post(f"/api/admin/keys/{body['keyId']}/rotate", headers=headers)
    assert (await rotated.json())["keySecret"] != body["keySecret"]
    revoked = await client.delete(f"/api/admin/keys/{body['keyId']}", headers=headers)
    assert (await revoked.json())["active"] is False
    bad_role = await client.post("/api/admin/keys", json={"role": "root"}, headers=headers)
    assert bad_role.status == 400


async def test_a_scoped_worker_key_reaches_only_its_task_types_and_domains(client) -> None:
    operator = auth(await token_for(client, await make_key(client, Role.OPERATOR)))
    charge_worker = auth(
        await token_for(client, await make_key(client, Role.WORKER, task_types=["charge"]))
    )
    eu_worker = auth(await token_for(client, await make_key(client, Role.WORKER, domains=["eu"])))
    for name, task in (("wf_charge", "charge"), ("wf_refund", "refund")):
        response = await client.post(
            "/api/metadata/workflow?overwrite=true",
            json=sequence(name, "a", task=task),
            headers=operator,
        )
        assert response.status == 200
    refund_wf = await (
        await client.post("/api/workflow/wf_refund", json={}, headers=operator)
    ).text()

    refused = await client.get(
        "/api/tasks/poll/batch/refund?count=1&timeout=0", headers=charge_worker
    )
    assert refused.status == 403
    assert (await refused.json())["error"] == "FORBIDDEN"
    assert (
        await client.get("/api/tasks/poll/batch/charge?timeout=0", headers=charge_worker)
    ).status == 200
    no_domain = await client.get("/api/tasks/poll/batch/charge?timeout=0", headers=eu_worker)
    assert no_domain.status == 403
    in_domain = await client.get(
        "/api/tasks/poll/batch/charge?timeout=0&domain=eu", headers=eu_worker
    )
    assert in_domain.status == 200

    # A refund task, claimed by a worker allowed to: the charge-only key cannot complete it.
    [task] = await (
        await client.get("/api/tasks/poll/batch/refund?timeout=0", headers=operator)
    ).json()
    result = {
        "workflowInstanceId": refund_wf,
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "outputData": {"stolen": True},
    }
    assert (await client.post("/api/tasks", json=result, headers=charge_worker)).status == 403
    workflow = await (await client.get(f"/api/workflow/{refund_wf}", headers=operator)).json()
    assert workflow["tasks"][0]["status"] == "IN_PROGRESS"
    log = await client.post(
        f"/api/tasks/{task['taskId']}/log", data=b"hello", headers=charge_worker
    )
    assert log.status == 403


async def test_operator_actions_name_their_key_in_the_audit_trail(client) -> None:
    operator_key = await make_key(client, Role.OPERATOR)
    operator = auth(await token_for(client, operator_key))
    response = await client.post(
        "/api/metadata/workflow?overwrite=true", json=sequence("audited", "a"), headers=operator
    )
    assert response.status == 200
    workflow_id = await (
        await client.post("/api/workflow/audited", json={}, headers=operator)
    ).text()
    terminated = await client.delete(
        f"/api/workflow/{workflow_id}?reason=cleanup", headers=operator
    )
    assert terminated.status == 200
    entries = await client.server.app[AUDIT].entries(10)
    actions = [(e.principal, e.role, e.action, e.target) for e in entries]
    assert (
        operator_key.key.key_id,
        "operator",
        "DELETE /api/workflow/{workflow_id}",
        f"/api/workflow/{workflow_id}",
    ) in actions
    assert any(a[2] == "POST /api/metadata/workflow" for a in actions)
    # Reads and starts are not actions of the audit trail.
    assert not any(a[2].startswith("GET") or a[2] == "POST /api/workflow/{name}" for a in actions)

    admin = auth(await token_for(client, await make_key(client, Role.ADMIN)))
    trail = await (await client.get("/api/admin/audit?limit=5", headers=admin)).json()
    assert trail[0]["action"] == "DELETE /api/workflow/{workflow_id}"
    assert trail[0]["principal"] == operator_key.key.key_id


async def test_without_keys_actions_are_audited_as_anonymous(client) -> None:
    await register_workflow(client, sequence("anon", "a"))
    workflow_id = await start(client, "anon")
    await poll(client, "work")
    assert (await client.delete(f"/api/workflow/{workflow_id}")).status == 200
    [latest, *_] = await client.server.app[AUDIT].entries(1)
    assert (latest.principal, latest.role) == ("anonymous", "admin")


async def test_revoking_every_key_does_not_reopen_the_server(client) -> None:
    issued = await make_key(client, Role.ADMIN)
    await client.server.app[KEY_ADMIN].revoke(issued.key.key_id)
    assert (await client.get("/api/metadata/workflow")).status == 401
    token = await client.post(
        "/api/token", json={"keyId": issued.key.key_id, "keySecret": issued.secret}
    )
    assert token.status == 401
    assert (await client.get("/health")).status == 200


async def test_the_worker_library_authenticates_and_renews_its_token(client, clock) -> None:
    operator = await make_key(client, Role.OPERATOR)
    api = str(client.make_url("/api"))
    async with ConductorClient(
        api, key_id=operator.key.key_id, key_secret=operator.secret
    ) as worker_client:
        await worker_client.register_workflow_def(sequence("lib_auth", "a"))
        workflow_id = await worker_client.start_workflow("lib_auth", {})
        clock.advance(client.server.app[KEYRING].token_ttl_s + 1)  # its token expires
        [task] = await worker_client.batch_poll("work", "w1", 1, 0)
        await worker_client.update(
            TaskResult(
                workflow_instance_id=workflow_id,
                task_id=task.task_id,
                status=TaskResultStatus.COMPLETED,
            )
        )
        workflow = await worker_client.get_workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"


async def test_the_worker_library_without_keys_on_the_server_needs_none(client) -> None:
    async with ConductorClient(
        str(client.make_url("/api")), key_id="k", key_secret="s"
    ) as worker_client:
        await worker_client.register_workflow_def(sequence("lib_open", "a"))
        assert await worker_client.start_workflow("lib_open", {})


async def test_the_worker_library_with_a_wrong_secret_fails_clearly(client) -> None:
    operator = await make_key(client, Role.OPERATOR)
    async with ConductorClient(
        str(client.make_url("/api")), key_id=operator.key.key_id, key_secret="wrong"
    ) as worker_client:
        with pytest.raises(ConductorError) as refused:
            await worker_client.start_workflow("anything", {})
    assert refused.value.status == 401
