from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.integration


async def test_health_reports_database(client) -> None:
    response = await client.get("/health")
    assert response.status == 200
    body = await response.json()
    assert body["healthy"] is True
    assert body["database"] == "external"
    # Which process answered: with --processes N the kernel picks one per connection.
    assert response.headers["X-Conductor-Pid"] == str(os.getpid())
