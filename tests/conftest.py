"""Shared fixtures: a real PostgreSQL database per test, an app on a manual clock, wait helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from conductor.app import TIMER_SERVICE, create_app
from conductor.clock import ManualClock
from conductor.config import Settings
from tests.pg import TestDatabases


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    dbs = TestDatabases(Path(tmp_path_factory.mktemp("postgres")))
    yield dbs
    dbs.close()


@pytest.fixture
def db_dsn(databases: TestDatabases) -> Iterator[str]:
    name = databases.create()
    yield databases.dsn(name)
    databases.drop(name)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def client(
    db_dsn: str, clock: ManualClock, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> TestClient[Any, Any]:
    """The API on a fresh database; background services off, time moved by hand."""
    settings = Settings(database_url=db_dsn, run_background_services=False)
    app = create_app(settings, clock=clock)
    return await aiohttp_client(app)


async def fire_timers(client: TestClient[Any, Any]) -> int:
    """Run the timer service until no timer is due at the manual clock's current time."""
    service = client.server.app[TIMER_SERVICE]
    total = 0
    while (fired := await service.run_once()) > 0:
        total += fired
    return total


async def drain(client: TestClient[Any, Any]) -> None:
    """Fire timers until none is due, including those that firing made due."""
    while await fire_timers(client):
        pass


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll an async condition until it holds; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
