"""R1: the server SIGKILLs itself at each fault point in turn; nothing is lost or done twice.

One server, workers on batch polls and update-v2, and 50 runs (fork, join, WAIT, task) started
each time the server is launched, with one fault point armed at a count drawn from the seed:
after a poll's claim has committed but before its answer is written, then between a
transition's writes and its commit, then after the commit and before anyone is answered. Each
time it dies by its own hand (its log says which point), it is started again on the same port
with the next point armed, and the workers carry on through the outage. Then every run must
complete, checked against the workers' ledger (tests/chaos/workload.py).
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from conductor import faults
from tests.chaos import workload
from tests.chaos.figures import record
from tests.conftest import wait_until
from tests.e2e.harness import Servers
from tests.e2e.ledger import Ledger
from workers import ConductorClient

# Three crashes, each with a timer lease (30 s) to wait out at worst: more than the default 120 s.
pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.once, pytest.mark.timeout(300)]

RUNS_PER_LAUNCH = 50
NAME, PREFIX = "chaos_fault_points", "chaos_fp"
# Where each point is armed, as a range of passes drawn from the seed: early enough that the
# launch's runs always get there (results are applied in groups, one pass per group), and
# landing while runs are in every stage.
POINTS = (
    ("claim.before_response", (3, 30)),
    ("transition.before_commit", (3, 25)),
    ("transition.after_commit", (3, 25)),
)
# A run that lost its task to a fault gets it back after responseTimeoutSeconds (3 s) plus the
# timer's sweep: I3's bound, with room for the restarts on a busy machine.
RECOVERY_BOUND_S = 60


async def test_kills_at_every_fault_point_lose_nothing(servers: Servers, seed: int) -> None:
    rng = random.Random(seed)
    armed = [(point, rng.randint(*bounds)) for point, bounds in POINTS]
    [server] = servers.start(1, env={faults.ENV: f"{armed[0][0]}={armed[0][1]}"})
    ledger = Ledger()
    async with ConductorClient(server.api) as admin:
        await workload.register(admin, NAME, PREFIX)
    starting: list[asyncio.Task[list[str]]] = []
    last_restart_s = 0.0
    async with workload.workers([server.api], PREFIX, ledger, per_server=2):
        for index, (point, _) in enumerate(armed):
            # Starts go on while the server dies and comes back: they retry, idempotently.
            first = index * RUNS_PER_LAUNCH
            starting.append(
                asyncio.create_task(
                    workload.start_runs(server.api, NAME, RUNS_PER_LAUNCH, first=first)
                )
            )

            async def died() -> bool:
                return not server.alive

            try:
                await wait_until(died, timeout=60, interval=0.05)
            except AssertionError:
                raise AssertionError(
                    f"fault point {point} not reached within 60 s of launch {index + 1}; "
                    f"{len(ledger)} deliveries so far\n{server.log_tail()}"
                ) from None
            down_at = time.monotonic()
            log = server.log_path.read_text()
            assert f"fault point {point} reached: SIGKILL" in log, server.log_tail()
            following = armed[index + 1] if index + 1 < len(armed) else None
            if following is None:
                server.env[faults.ENV] = ""
                await server.start_async()
                last_restart_s = time.monotonic() - down_at
            else:
                # Not waited for: armed again, it may die by its next point before the first
                # health check, and the next round's wait sees that.
                server.env[faults.ENV] = f"{following[0]}={following[1]}"
                server.launch()
        workflow_ids = [run for batch in await asyncio.gather(*starting) for run in batch]
        recovery_s = await workload.wait_all_completed(server.api, workflow_ids, RECOVERY_BOUND_S)
    verdict = await workload.verdict(server.api, workflow_ids, ledger)
    record(
        f"R1 fault points, seed {seed}",
        {
            "kills": len(armed),
            "at": "; ".join(f"{p} #{n}" for p, n in armed),
            **verdict.figures(),
            "last restart s": round(last_restart_s, 1),
            "all COMPLETED s after the last restart": round(recovery_s, 1),
        },
    )
    assert not verdict.problems, "\n".join(verdict.problems[:30])
