"""Generated executions (conductor/store/generated.py, for the benchmarks) read back like runs
the server wrote: through the REST API, its search and the UI's executions page."""

from __future__ import annotations

import pytest

from conductor.api.keys import POOL
from conductor.store.generated import generate_executions, settle
from tests.integration.api import register_workflow, sequence

pytestmark = pytest.mark.integration


async def test_generated_runs_read_back_like_written_ones(client, clock) -> None:
    definition = sequence("generated", "a")
    await register_workflow(client, definition)
    now = clock.now_ms()
    async with client.server.app[POOL].acquire() as conn:
        await generate_executions(conn, definition, 1, 200, now, 1000)
        await settle(conn)
    found = await client.get("/api/workflow/search", params={"size": 100})
    body = await found.json()
    assert body["totalHits"] == 200
    newest = body["results"][0]
    assert newest["correlationId"] == "order-1"
    statuses = await client.get("/api/workflow/search", params={"query": "status = FAILED"})
    assert (await statuses.json())["totalHits"] == 4  # 2 %
    failed = (await statuses.json())["results"][0]["workflowId"]
    run = await (await client.get(f"/api/workflow/{failed}")).json()
    assert run["reasonForIncompletion"] == "generated failed"
    assert run["correlationId"] == "order-6"  # the newest of g % 100 in (6, 7)
    assert run["startTime"] == now - 6000 and run["endTime"] == now - 1000
    assert run["input"] == {"customer": "customer-6", "amount": 6}
    assert run["workflowName"] == "generated" and run["status"] == "FAILED"
    page = await client.get("/executions")
    assert page.status == 200 and newest["workflowId"] in await page.text()
