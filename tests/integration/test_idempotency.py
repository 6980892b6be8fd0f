"""Starting exactly once: idempotencyKey with FAIL, RETURN_EXISTING and FAIL_ON_RUNNING, enforced
by a unique key (Conductor OSS accepts the fields and ignores them)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.api import register_workflow, row_counts, sequence, workflow

pytestmark = pytest.mark.integration


async def start_keyed(client, key: str, strategy: str | None = None, name: str = "billing"):
    body = {"name": name, "input": {"customer": 7}, "idempotencyKey": key}
    if strategy is not None:
        body["idempotencyStrategy"] = strategy
    return await client.post("/api/workflow", json=body)


async def started_id(response) -> str:
    assert response.status == 200, await response.text()
    return await response.text()


@pytest.fixture
async def flows(client):
    await register_workflow(client, sequence("billing", "charge"))
    await register_workflow(client, sequence("refunds", "refund"))


async def test_fail_refuses_a_second_start_with_the_same_key(client, flows) -> None:
    first = await started_id(await start_keyed(client, "invoice-1"))
    before = await row_counts(client)
    response = await start_keyed(client, "invoice-1", "FAIL")
    assert response.status == 409
    body = await response.json()
    assert first in body["message"] and body["status"] == 409
    assert await row_counts(client) == before
    # The key is scoped to the workflow name.
    await started_id(await start_keyed(client, "invoice-1", name="refunds"))
    assert (await workflow(client, first))["idempotencyKey"] == "invoice-1"


async def test_return_existing_answers_with_the_first_run(client, flows) -> None:
    first = await started_id(await start_keyed(client, "invoice-2", "RETURN_EXISTING"))
    again = await started_id(await start_keyed(client, "invoice-2", "RETURN_EXISTING"))
    assert again == first
    terminated = await client.delete(f"/api/workflow/{first}", params={"reason": "done"})
    assert terminated.status == 200
    assert await started_id(await start_keyed(client, "invoice-2", "RETURN_EXISTING")) == first


async def test_fail_on_running_starts_again_once_the_holder_has_ended(client, flows) -> None:
    first = await started_id(await start_keyed(client, "invoice-3", "FAIL_ON_RUNNING"))
    response = await start_keyed(client, "invoice-3", "FAIL_ON_RUNNING")
    assert response.status == 409
    assert (await client.delete(f"/api/workflow/{first}")).status == 200
    second = await started_id(await start_keyed(client, "invoice-3", "FAIL_ON_RUNNING"))
    assert second != first
    # The key now belongs to the second run.
    assert await started_id(await start_keyed(client, "invoice-3", "RETURN_EXISTING")) == second


async def test_removing_the_holder_frees_the_key(client, flows) -> None:
    first = await started_id(await start_keyed(client, "invoice-4"))
    assert (await client.delete(f"/api/workflow/{first}/remove")).status == 200
    second = await started_id(await start_keyed(client, "invoice-4"))
    assert second != first


async def test_an_unknown_strategy_is_refused(client, flows) -> None:
    before = await row_counts(client)
    response = await start_keyed(client, "invoice-5", "SOMETIMES")
    assert response.status == 400
    assert "idempotencyStrategy" in await response.text()
    assert await row_counts(client) == before


@pytest.mark.parametrize("strategy", ["FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING"])
async def test_fifty_parallel_starts_with_one_key_create_one_workflow(
    client, flows, strategy
) -> None:
    before = await row_counts(client)
    responses = await asyncio.gather(
        *(start_keyed(client, "invoice-parallel", strategy) for _ in range(50))
    )
    statuses = [r.status for r in responses]
    bodies = [await r.text() for r in responses]
    after = await row_counts(client)
    assert after["workflow"] == before["workflow"] + 1
    assert after["task"] == before["task"] + 1
    winners = {body for status, body in zip(statuses, bodies, strict=True) if status == 200}
    assert len(winners) == 1
    if strategy == "RETURN_EXISTING":
        assert statuses == [200] * 50
    else:
        assert sorted(statuses) == [200] + [409] * 49
