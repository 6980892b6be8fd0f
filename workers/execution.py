"""Run one task through its worker and turn whatever happens into the TaskResult to report.

Exceptions from worker code become failed results here and never escape; cancellation
(a forced shutdown) is not an outcome and propagates untouched.
"""

from __future__ import annotations

import logging

from workers.errors import NonRetryableError
from workers.model import Task, TaskResult
from workers.outcome import result_from_exception, result_from_outcome
from workers.worker import Worker

logger = logging.getLogger(__name__)


async def execute_task(worker: Worker, task: Task, worker_id: str) -> TaskResult:
    """Execute `task` with `worker` and return the result to send to the server."""
    try:
        outcome = await worker.execute(task)
    except NonRetryableError as exc:
        logger.warning(
            "task %s (%s, workflow %s) failed terminally: %s",
            task.task_id,
            task.task_type,
            task.workflow_instance_id,
            exc,
        )
        return result_from_exception(task, exc, worker_id)
    except Exception as exc:
        # A failing task is normal flow (the server retries it), so warn, not error;
        # the traceback also travels to the server in the result's logs.
        logger.warning(
            "task %s (%s, workflow %s) failed: %r",
            task.task_id,
            task.task_type,
            task.workflow_instance_id,
            exc,
            exc_info=exc,
        )
        return result_from_exception(task, exc, worker_id)
    return result_from_outcome(task, outcome, worker_id)
