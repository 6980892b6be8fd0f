"""Keeps the planner's picture of the hot tables true while they fill and churn.

Every statement on the hot path is prepared once per connection, and after a few executions
PostgreSQL keeps one generic plan for it, costed on the statistics of the moment. A new
database's tables are empty then, so the plan scans whole tables (cheap while they are empty)
and keeps doing so as they grow, until an ANALYZE changes the statistics and the plans are made
again. Autovacuum analyzes a changed table within its nap time (a minute) when it is on; where
it is off (some managed and CI databases), never. In bench.mixed_load's M1 on such a database
the task claim took 0.47 ms instead of 0.10 ms and PostgreSQL's CPU per task was half as much
again. So the server analyzes the hot tables itself when they have changed by autovacuum's own
rule, checked every few seconds: while they are small (under 10,000 rows, where plans change
most), and at any size where autovacuum is off. Big tables are left to autovacuum when it is
on, and no ANALYZE here waits more than 100 ms for its lock: a lock request that waits for
deadlock_timeout makes PostgreSQL cancel the autovacuum in its way. In a soak at 570 tasks/s
an earlier form of this, analyzing every few seconds and waiting for locks, cancelled every
autovacuum of the task table after the first, and the table grew by 100 MiB a minute.
"""

from __future__ import annotations

import logging

import asyncpg

from conductor.metrics import Metrics
from conductor.store import statistics

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 2.0


class TableStatistics:
    def __init__(self, pool: asyncpg.Pool, metrics: Metrics) -> None:
        self.pool = pool
        self.metrics = metrics

    async def refresh(self) -> list[str]:
        """Analyze the hot tables that changed enough since their last ANALYZE; their names."""
        async with self.pool.acquire() as conn:
            analyzed = await statistics.analyze_stale(conn)
        for table in analyzed:
            self.metrics.tables_analyzed.labels(table).inc()
        if analyzed:
            log.debug("analyzed %s", ", ".join(analyzed))
        return analyzed
