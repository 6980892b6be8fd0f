"""Running workflows and in-progress tasks per type, for /metrics, counted across all servers.

Read from the database now and then (they are totals of every server's work); a type whose
count fell to nothing reads 0 rather than vanishing, so a dashboard sees it drop.
"""

from __future__ import annotations

import asyncpg

from conductor.metrics import Metrics
from conductor.store import queue_monitor

WORK_GAUGES_S = 15.0


class WorkGauges:
    def __init__(self, pool: asyncpg.Pool, metrics: Metrics) -> None:
        self.pool = pool
        self.metrics = metrics
        self._workflow_labels: set[tuple[str, str]] = set()
        self._task_labels: set[str] = set()

    async def update(self) -> None:
        async with self.pool.acquire() as conn:
            running = await queue_monitor.running_workflows(conn)
            in_progress = await queue_monitor.in_progress_tasks(conn)
        for labels in self._workflow_labels - running.keys():
            self.metrics.workflows_running.labels(*labels).set(0)
        for labels, count in running.items():
            self.metrics.workflows_running.labels(*labels).set(count)
        for task_type in self._task_labels - in_progress.keys():
            self.metrics.tasks_in_progress.labels(task_type).set(0)
        for task_type, count in in_progress.items():
            self.metrics.tasks_in_progress.labels(task_type).set(count)
        self._workflow_labels |= running.keys()
        self._task_labels |= in_progress.keys()
