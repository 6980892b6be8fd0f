"""Prometheus collectors, created on an injected registry (a fresh one per app and per test).

Labels are bounded: task type, workflow type, status, queue, domain, never an id.
docs/metrics.md lists every metric with its meaning and a sample query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

# A `_created` series per counter doubles what is scraped and alerts never use it.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds: from a worker task's poll to its result, from a workflow's start to its end.
_EXECUTION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_WORKFLOW_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)


class _Pool(Protocol):
    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # process_* (CPU, memory, file descriptors) and python_info, as the default registry has.
        r.register(PROCESS_COLLECTOR)
        r.register(PLATFORM_COLLECTOR)
        self.workflows_started = Counter(
            "conductor_workflows_started_total", "Workflows started", ["workflow_type"], registry=r
        )
        self.workflows_finished = Counter(
            "conductor_workflows_finished_total",
            "Workflows that reached a terminal status",
            ["workflow_type", "status"],
            registry=r,
        )
        self.tasks_polled = Counter(
            "conductor_tasks_polled_total", "Tasks handed to workers", ["task_type"], registry=r
        )
        self.task_updates = Counter(
            "conductor_task_updates_total", "Task results received", ["status"], registry=r
        )
        self.workflow_duration = Histogram(
            "conductor_workflow_duration_seconds",
            "From a workflow's start to its terminal status",
            ["workflow_type", "status"],
            buckets=_WORKFLOW_BUCKETS,
            registry=r,
        )
        self.tasks_finished = Counter(
            "conductor_tasks_finished_total",
            "Tasks that reached a terminal status (COMPLETED, FAILED, TIMED_OUT, CANCELED, ...)",
            ["task_type", "status"],
            registry=r,
        )
        self.task_execution = Histogram(
            "conductor_task_execution_seconds",
            "From a task's start (a worker's poll) to its terminal status",
            ["task_type"],
            buckets=_EXECUTION_BUCKETS,
            registry=r,
        )
        self.task_polls_limited = Counter(
            "conductor_task_polls_limited_total",
            "Polls that got nothing because the task definition's concurrentExecLimit"
            " (limit=concurrency) or rateLimitPerFrequency (limit=rate) left no room",
            ["task_type", "limit"],
            registry=r,
        )
        self.workflows_running = Gauge(
            "conductor_workflows_running",
            "Workflows not finished, by type and status (RUNNING or PAUSED)",
            ["workflow_type", "status"],
            registry=r,
        )
        self.tasks_in_progress = Gauge(
            "conductor_tasks_in_progress",
            "Tasks IN_PROGRESS (polled by a worker, or a system task running), by task type",
            ["task_type"],
            registry=r,
        )
        self.db_pool_size = Gauge(
            "conductor_db_pool_connections",
            "Connections open in the server's database pools",
            ["pool"],
            registry=r,
        )
        self.db_pool_in_use = Gauge(
            "conductor_db_pool_connections_in_use",
            "Connections of the server's database pools lent out now",
            ["pool"],
            registry=r,
        )
        self.db_oldest_transaction = Gauge(
            "conductor_db_oldest_transaction_seconds",
            "Age of the oldest transaction in the database holding a snapshot: while it stays"
            " open, vacuum removes no row it may see, and queues and tables bloat",
            registry=r,
        )
        self.db_errors = Counter(
            "conductor_db_errors_total",
            "Requests answered with an error because the database failed or could not be reached",
            registry=r,
        )
        self.long_poll_seconds = Histogram(
            "conductor_task_poll_seconds",
            "How long task polls took, long-poll waits included (kept out of"
            " conductor_http_request_seconds)",
            ["task_type", "status"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.event_messages = Counter(
            "conductor_event_messages_total",
            "Event messages processed by the event handlers, by event queue type",
            ["queue_type"],
            registry=r,
        )
        self.event_actions = Counter(
            "conductor_event_actions_total",
            "Event handler actions run, by action and outcome (ok or failed)",
            ["action", "outcome"],
            registry=r,
        )
        self.schedule_fires = Counter(
            "conductor_schedule_fires_total",
            "Workflow schedules fired, by outcome (started, failed, skipped)",
            ["outcome"],
            registry=r,
        )
        self.task_updates_ignored = Counter(
            "conductor_task_updates_ignored_total",
            "Duplicate or late task results ignored",
            registry=r,
        )
        self.transition_seconds = Histogram(
            "conductor_transition_seconds",
            "Time to load, decide and commit one workflow transition",
            ["event"],
            registry=r,
        )
        self.group_commit_size = Histogram(
            "conductor_group_commit_size",
            "Task results applied together in one group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=r,
        )
        self.group_commit_fallbacks = Counter(
            "conductor_group_commit_fallbacks_total",
            "Task results a group commit left to their own transaction (run locked elsewhere,"
            " a second result for the run, a conflict)",
            registry=r,
        )
        self.start_group_size = Histogram(
            "conductor_start_group_size",
            "Workflow starts made together in one group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=r,
        )
        self.start_group_fallbacks = Counter(
            "conductor_start_group_fallbacks_total",
            "Workflow starts a group commit left to their own transaction (unknown definition,"
            " input over the cap, a run failing at once, an error)",
            registry=r,
        )
        self.transition_retries = Counter(
            "conductor_transition_retries_total",
            "Transitions retried after a concurrent change",
            registry=r,
        )
        self.tables_analyzed = Counter(
            "conductor_tables_analyzed_total",
            "ANALYZE runs the server made on a hot table whose statistics had gone stale",
            ["table"],
            registry=r,
        )
        self.workflows_purged = Counter(
            "conductor_workflows_purged_total",
            "Finished workflows removed by retention",
            registry=r,
        )
        self.system_tasks_postponed = Counter(
            "conductor_system_tasks_postponed_total",
            "System tasks put back for a second because their isolation group's lane was full",
            ["lane"],
            registry=r,
        )
        self.timers_fired = Counter(
            "conductor_timers_fired_total", "Durable timers fired", ["kind"], registry=r
        )
        self.timers_quarantined = Counter(
            "conductor_timers_quarantined_total",
            "Timers that failed to fire too many times in a row and were stopped (their workflow"
            " terminated with the reason)",
            ["kind"],
            registry=r,
        )
        self.timers_pending = Gauge(
            "conductor_timers_pending", "Timers stored, due or not", registry=r
        )
        self.timers_due = Gauge("conductor_timers_due", "Timers due but not fired yet", registry=r)
        self.timer_lateness = Histogram(
            "conductor_timer_lateness_seconds",
            "How long after its due time a timer was claimed for firing",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.event_handlers_without_consumer = Gauge(
            "conductor_event_handlers_without_consumer",
            "Active event handlers whose event's queue type no consumer on this server reads",
            registry=r,
        )
        self.queue_ready = Gauge(
            "conductor_task_queue_ready",
            "Tasks pollable now in a queue (task type, or domain:task type)",
            ["queue"],
            registry=r,
        )
        self.queue_oldest_ready_seconds = Gauge(
            "conductor_task_queue_oldest_ready_seconds",
            "How long the longest-waiting pollable task of a queue has waited to be polled",
            ["queue"],
            registry=r,
        )
        self.start_backlog = Gauge(
            "conductor_start_backlog",
            "Workflow starts waiting for admission while running work goes first",
            registry=r,
        )
        self.start_admission_seconds = Histogram(
            "conductor_start_admission_seconds",
            "How long a workflow start waited for admission",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.starts_held = Counter(
            "conductor_starts_held_total",
            "Times an admitted start was held because queued tasks were being claimed late",
            registry=r,
        )
        self.task_queue_wait = Histogram(
            "conductor_task_queue_wait_seconds",
            "How long tasks waited in their queue, from ready to claimed by a worker",
            ["task_type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.starts_refused = Counter(
            "conductor_starts_refused_total",
            "Workflow starts answered 429 because the start backlog was full",
            registry=r,
        )
        self.long_polls_waiting = Gauge(
            "conductor_long_polls_waiting", "Long-poll requests waiting for work", registry=r
        )
        self.tasks_handed_off = Counter(
            "conductor_tasks_handed_off_total",
            "Tasks claimed for a waiting long-poll by the transaction that made them ready",
            registry=r,
        )
        self.background_crashes = Counter(
            "conductor_background_service_crashes_total",
            "Background services restarted after an unexpected error",
            ["service"],
            registry=r,
        )
        self.http_requests = Histogram(
            "conductor_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=r,
        )

    def watch_pools(self, pools: Mapping[str, _Pool]) -> None:
        """Read each pool's size and use at scrape time (nothing to update meanwhile)."""
        for name, pool in pools.items():
            self.db_pool_size.labels(name).set_function(pool.get_size)
            self.db_pool_in_use.labels(name).set_function(_in_use(pool))


def _in_use(pool: _Pool) -> Callable[[], int]:
    return lambda: pool.get_size() - pool.get_idle_size()
