"""While PostgreSQL refuses writes (a failover left the server on a standby, or the database
was made read-only) or drops its connections, requests get a retryable 503 with Retry-After,
nothing half-written, and one log line for the outage; work resumes by itself after."""

from __future__ import annotations

import logging

import asyncpg
import pytest

from conductor.testing.databases import with_database
from tests.conftest import wait_until
from tests.integration.api import register_workflow, row_counts, sequence

pytestmark = pytest.mark.integration


async def set_read_only(db_dsn: str, read_only: bool) -> None:
    """Flip the database's default and drop its sessions, as a failover to a standby would."""
    name = db_dsn.split("?")[0].rsplit("/", 1)[1]
    admin = await asyncpg.connect(with_database(db_dsn, "postgres"))
    try:
        setting = "on" if read_only else "off"
        await admin.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {setting}'
        )
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def test_a_read_only_database_gets_retryable_503s_and_one_warning(
    client, db_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    await register_workflow(client, sequence("billing", "a"))
    before = await row_counts(client)
    caplog.set_level(logging.INFO, logger="conductor.api.outage")
    await set_read_only(db_dsn, True)
    try:
        for _ in range(3):
            response = await client.post("/api/workflow/billing", json={})
            assert response.status == 503, await response.text()
            body = await response.json()
            assert body["retryable"] is True and body["status"] == 503
            assert int(response.headers["Retry-After"]) > 0
        health = await client.get("/health")
        assert health.status == 503
    finally:
        await set_read_only(db_dsn, False)

    # Back by itself, with no restart and no operator: a pooled connection the database
    # dropped may refuse one more request (503 again) before the pool replaces it.
    async def started() -> bool:
        response = await client.post("/api/workflow/billing", json={})
        assert response.status in (200, 503), await response.text()
        return response.status == 200

    await wait_until(started, timeout=10.0)
    after = await row_counts(client)
    assert after["workflow"] == before["workflow"] + 1  # the refused starts left nothing
    outage_lines = [r for r in caplog.records if r.name == "conductor.api.outage"]
    assert [r.levelname for r in outage_lines] == ["WARNING", "INFO"]
    assert "requests refused meanwhile" in outage_lines[1].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
