"""R23: an upgrade mid-flight. Runs start on the previous release, which is stopped with work
in every stage; this release starts on the same database, migrates it, and finishes them.

The previous release is stop 24's head (1169b6b), whose schema lacks migration 0014; its
`conductor` package is taken from git history into a folder of the test's and run from there.
Runs of the chaos workload (fork, join, WAIT, task) are under way on it when it is stopped,
and runs sit in a WAIT of a day. After the upgrade the workload's runs complete (checked
against the ledger, across both releases), and the day-long WAITs are still waiting, their
state intact, until they are completed by hand.
"""

from __future__ import annotations

import subprocess
import tarfile
import time
from io import BytesIO
from pathlib import Path

import asyncpg
import pytest

from conductor.testing.databases import create_database, drop_database
from tests.chaos import workload
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import Ledger
from tests.pg import TestDatabases
from workers import ConductorClient, TaskResult, TaskResultStatus

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once]

PREVIOUS_RELEASE = "1169b6b471be2ab3c168628fb737ef04ea62eb20"  # stop 24
REPOSITORY = Path(__file__).resolve().parents[2]
MIGRATIONS = REPOSITORY / "conductor" / "store" / "sql" / "migrations"
RUNS, LONG_WAITS = 60, 5
NAME, PREFIX = "chaos_upgrade", "chaos_up"
LONG_NAME = "chaos_upgrade_day_wait"


def _previous_release(folder: Path) -> Path:
    """The previous release's `conductor` package, from git history, under `folder`."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", PREVIOUS_RELEASE, "conductor"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


async def _migrations(dsn: str) -> set[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    finally:
        await conn.close()


async def test_runs_started_on_the_previous_release_finish_after_the_upgrade(
    databases: TestDatabases, tmp_path: Path
) -> None:
    old_tree = _previous_release(tmp_path / "previous")
    ledger = Ledger()
    # An empty database (not the test template, which this release has migrated already).
    empty = await create_database(databases.admin_dsn, "conductor_upgrade")
    db_dsn = databases.dsn(empty)
    servers = Servers(db_dsn, tmp_path)
    try:
        # PYTHONSAFEPATH: `python -m` would otherwise put the working directory (this
        # release) ahead of PYTHONPATH.
        [old] = servers.start(1, env={"PYTHONPATH": str(old_tree), "PYTHONSAFEPATH": "1"})
        before = await _migrations(db_dsn)
        async with ConductorClient(old.api) as client:
            await workload.register(client, NAME, PREFIX)
            await client.register_workflow_def(
                {
                    "name": LONG_NAME,
                    "version": 1,
                    "schemaVersion": 2,
                    "tasks": [
                        {
                            "name": "day",
                            "taskReferenceName": "day",
                            "type": "WAIT",
                            "inputParameters": {"duration": "1 days"},
                        }
                    ],
                }
            )
            long_ids = [
                await client.start_workflow(LONG_NAME, {}, version=1) for _ in range(LONG_WAITS)
            ]
        async with workload.workers([old.api], PREFIX, ledger):
            run_ids = await workload.start_runs(old.api, NAME, RUNS)

            async def under_way() -> bool:
                return len(ledger) >= RUNS // 2  # a sixth of the tasks done

            await wait_until(under_way, timeout=60)
        assert old.stop() == 0, old.log_tail()  # the rolling upgrade's SIGTERM
        at_upgrade = len(ledger)

        [new] = servers.start(1)
        after = await _migrations(db_dsn)
        upgraded_at = time.monotonic()
        async with workload.workers([new.api], PREFIX, ledger):
            await workload.wait_all_completed(new.api, run_ids, timeout=90)
        completed_s = time.monotonic() - upgraded_at
        verdict = await workload.verdict(new.api, run_ids, ledger)
        async with ConductorClient(new.api) as client:
            waiting = [await client.get_workflow(w, include_tasks=True) for w in long_ids]
            for run in waiting:
                task = run["tasks"][0]
                await client.update(
                    TaskResult(run["workflowId"], task["taskId"], TaskResultStatus.COMPLETED)
                )
            finished = [await client.get_workflow(w, include_tasks=False) for w in long_ids]
    finally:
        problems = servers.close()
        await drop_database(databases.admin_dsn, empty)
    shipped = {int(path.name[:4]) for path in MIGRATIONS.glob("*.sql")}
    record(
        "R23 upgrade mid-flight",
        {
            "from": PREVIOUS_RELEASE[:7],
            "migrations applied at upgrade": len(after - before),
            "tasks done before the upgrade": at_upgrade,
            **verdict.figures(),
            "all COMPLETED s after the upgrade": round(completed_s, 1),
            "day-long WAITs intact": sum(
                r["status"] == "RUNNING" and r["tasks"][0]["status"] == "IN_PROGRESS"
                for r in waiting
            ),
        },
    )
    assert before < after == shipped, (sorted(before), sorted(after))
    assert not verdict.problems, "\n".join(verdict.problems[:30])
    assert all(
        r["status"] == "RUNNING" and [t["status"] for t in r["tasks"]] == ["IN_PROGRESS"]
        for r in waiting
    ), waiting
    assert [r["status"] for r in finished] == ["COMPLETED"] * LONG_WAITS
    assert problems == []
