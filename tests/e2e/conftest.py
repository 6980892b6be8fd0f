"""End-to-end fixtures: real server subprocesses on a fresh database, stopped at teardown.

`servers.start(n)` launches n servers on free ports against the test's database and waits for
each /health to answer 200. A server can be SIGKILLed (`kill()`) and started again on the same
port (`start_async()`). When a test fails, the tail of every live server's log is attached to
its report; the full logs stay in the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import LIVE, Servers
from tests.e2e.js_sdk import node_with_sdk


@pytest.fixture
def servers(db_dsn: str, tmp_path: Path) -> Iterator[Servers]:
    owned = Servers(db_dsn, tmp_path)
    try:
        yield owned
    finally:
        problems = owned.close()
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with the pinned JavaScript SDK installed (tests/e2e/js_sdk.py)."""
    return node_with_sdk()


@pytest.fixture
def server(servers: Servers) -> ServerProcess:
    """One running server on the test's database."""
    return servers.start(1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for live in LIVE:
            report.sections.append((f"server {live.name} (port {live.port})", live.log_tail()))
    return report
