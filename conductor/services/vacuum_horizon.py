"""Watches for a transaction held open in the database, which stops vacuum everywhere in it.

Queue, task and timer rows churn by the thousand a second and are removed as they finish; a
snapshot held open (a forgotten `BEGIN` in psql, a stuck report, a long backup on the primary)
keeps every such dead row in place until it ends, and claims slow as they skip them. The age
of the oldest one goes to /metrics (`conductor_db_oldest_transaction_seconds`), with an alert
in deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

import asyncpg

from conductor.metrics import Metrics
from conductor.store import statistics

HORIZON_CHECK_S = 5.0


class VacuumHorizon:
    def __init__(self, pool: asyncpg.Pool, metrics: Metrics) -> None:
        self.pool = pool
        self.metrics = metrics

    async def update(self) -> None:
        async with self.pool.acquire() as conn:
            age = await statistics.oldest_snapshot_age_s(conn)
        self.metrics.db_oldest_transaction.set(age)
