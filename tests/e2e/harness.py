"""What the end-to-end tests add to `conductor.testing.server_process`: ownership and reports.

`Servers` starts server processes on one database on free ports and stops them all at teardown,
with complaints about any that died by itself or stopped badly. `LIVE` lists the servers not yet
stopped, so that the e2e conftest can attach the tail of each one's log to a failing test's
report. `wait_until_sync` waits on a condition with a deadline, for tests that are not async.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from conductor.testing.server_process import STARTUP_TIMEOUT_S, ServerProcess, free_port

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class as a test
    from tests.pg import TestDatabases

# Servers launched and not yet stopped, for log tails in failure reports.
LIVE: list[ServerProcess] = []


async def metric_value(base_url: str, name: str) -> float:
    """The value of a server's unlabelled metric `name` from its /metrics (0 if absent)."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


def wait_until_sync(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> None:
    """Poll a condition until it holds; fail the test at the deadline (sync tests)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {what or predicate}")
        time.sleep(interval)


class Servers:
    """Starts and owns server processes on one database; `close()` stops them all."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self._servers: list[ServerProcess] = []

    def start(
        self,
        count: int = 1,
        timeout: float = STARTUP_TIMEOUT_S,
        *,
        args: Sequence[str] = (),
        tls: ssl.SSLContext | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> list[ServerProcess]:
        """Launch `count` servers at once, then wait until every one is healthy."""
        started = []
        for _ in range(count):
            index = len(self._servers)
            server = ServerProcess(
                f"server{index}",
                free_port(),
                self.database_url,
                self.log_dir / f"server{index}.log",
                env=env,
                args=args,
                tls=tls,
            )
            self._servers.append(server)
            LIVE.append(server)
            server.launch()
            started.append(server)
        for server in started:
            server.wait_ready(timeout)
        return started

    def close(self) -> list[str]:
        """Stop every server; return complaints about servers that died or stopped badly."""
        problems = []
        for server in self._servers:
            if server.exited_by_itself():
                problems.append(f"server {server.name} exited by itself\n{server.log_tail()}")
            code = server.stop()
            if code not in (None, 0):
                problems.append(
                    f"server {server.name} exited with {code} after SIGTERM\n{server.log_tail()}"
                )
            if server in LIVE:
                LIVE.remove(server)
        return problems


def one_server_on_its_own_database(
    databases: TestDatabases, folder: Path
) -> Iterator[ServerProcess]:
    """For a module-scoped fixture: one server on a fresh database, yielded; then both are
    stopped and dropped, and the test fails with the server's problems if it had any."""
    database = databases.create()
    owned = Servers(databases.dsn(database), folder)
    try:
        yield owned.start(1)[0]
    finally:
        problems = owned.close()
        databases.drop(database)
    if problems:
        pytest.fail("\n\n".join(problems))
