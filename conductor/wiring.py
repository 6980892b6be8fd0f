"""Wiring: builds every part of a server from its settings and database connections, once.

The only place that knows which part needs which: the timer service gets a handler for each
HANDLER timer kind (timers/routes.py), the system-task runner a handler for each runtime
(engine/task_types.py), and the supervisor the list of background services to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from conductor.api.longpoll import Poller
from conductor.background import BackgroundService, Periodic
from conductor.clock import Clock, DatabaseClock, JumpingClock
from conductor.config import Settings, SettingsError
from conductor.engine.decision import TimerKind
from conductor.executor import Executor
from conductor.group_commit import GroupCommit, StartGroup
from conductor.metrics import Metrics
from conductor.services.api_keys import KeyAdmin
from conductor.services.audit import AuditTrail
from conductor.services.broadcast import Broadcaster
from conductor.services.database_clock import ANCHOR_EVERY_S
from conductor.services.database_clock import anchor as anchor_clock
from conductor.services.egress import (
    DEFAULT_DENY,
    EgressPolicy,
    Entry,
    own_entries,
    parse_entries,
)
from conductor.services.egress_network import bind_addresses, machine_addresses
from conductor.services.event_processor import EventProcessor
from conductor.services.http_task import HttpTaskClient
from conductor.services.jq_runner import JqRunner
from conductor.services.keyring import KeyRing
from conductor.services.lanes import WEBHOOK_LANE, Lanes
from conductor.services.launches import Launches
from conductor.services.retention import RetentionPolicy, RetentionService
from conductor.services.script_runtimes import ScriptRuntimes
from conductor.services.scripts import ScriptSandbox
from conductor.services.system_task_runner import SystemTaskRunner, runtime_handlers
from conductor.services.table_statistics import CHECK_INTERVAL_S, TableStatistics
from conductor.services.vacuum_horizon import HORIZON_CHECK_S, VacuumHorizon
from conductor.services.work_gauges import WORK_GAUGES_S, WorkGauges
from conductor.store.limits import LimitsCache
from conductor.store.timers import ClaimedTimer
from conductor.store.workflows import WorkflowStore
from conductor.timers.effects import WorkflowEffects
from conductor.timers.reschedule import TimerRescheduler
from conductor.timers.scheduler import ScheduleService
from conductor.timers.service import TimerHandler, TimerService
from conductor.timers.virtual import VirtualClockDriver
from conductor.wakeups import Wakeups

POLL_DATA_FLUSH_S = 2.0
TIMER_GAUGES_S = 15.0
EVENT_GAUGES_S = 15.0
QUEUE_GAUGES_S = 15.0
VIRTUAL_CLOCK_CHECK_S = 0.25


@dataclass
class Components:
    workflows: WorkflowStore
    executor: Executor
    results: GroupCommit
    starts: StartGroup
    poller: Poller
    jq: JqRunner
    http: HttpTaskClient
    lanes: Lanes
    runner: SystemTaskRunner
    timer_service: TimerService
    schedules: ScheduleService
    event_processor: EventProcessor
    retention: RetentionService | None
    broadcaster: Broadcaster | None
    keyring: KeyRing
    key_admin: KeyAdmin
    audit: AuditTrail
    # What the supervisor runs (empty when background services are off, as in most tests).
    services: list[BackgroundService] = field(default_factory=list)

    async def close(self) -> None:
        self.jq.close()
        await self.http.close()


def wire(
    settings: Settings,
    *,
    dsn: str,
    pool: asyncpg.Pool,
    timer_pool: asyncpg.Pool,
    clock: Clock,
    metrics: Metrics,
    wakeups: Wakeups,
    sandbox: ScriptSandbox,
    egress: EgressPolicy,
) -> Components:
    workflows = WorkflowStore(pool)
    limits = LimitsCache()
    executor = Executor(
        workflows,
        clock,
        wakeups,
        metrics,
        limits,
        max_workflow_input_bytes=settings.max_workflow_input_bytes,
        max_task_output_bytes=settings.max_task_output_bytes,
    )
    poller = Poller(pool, clock, wakeups, metrics, limits, executor.hand_offs)
    jq, http = JqRunner(), HttpTaskClient(egress, settings.http_max_response_bytes)
    # Two of the timer pool's connections stay free for claiming.
    firing_limit = max(1, settings.timer_pool_size - 2)
    rescheduler = TimerRescheduler(pool, wakeups)
    lanes = Lanes(
        rescheduler,
        clock,
        metrics,
        local_limit=firing_limit,
        lane_size=settings.system_task_lane_size,
    )
    scripts = ScriptRuntimes(sandbox, jq, workflows)
    launches = Launches(executor, workflows)
    runner = SystemTaskRunner(executor, lanes, runtime_handlers(scripts, launches, http))
    effects = WorkflowEffects(workflows, executor, clock, rescheduler, http.post_json)

    async def notify_listener(timer: ClaimedTimer) -> None:
        await lanes.isolated(timer, WEBHOOK_LANE, lambda _waited: effects.notify_listener(timer))

    handlers: dict[TimerKind, TimerHandler] = {
        TimerKind.SYSTEM_TASK: runner.run,
        TimerKind.SUBWORKFLOW_DONE: effects.child_done,
        TimerKind.FAILURE_WORKFLOW: effects.failure_workflow,
        TimerKind.STATUS_LISTENER: notify_listener,
    }
    timer_service = TimerService(
        timer_pool,
        clock,
        executor,
        wakeups,
        metrics,
        handlers,
        batch=settings.timer_batch,
        bulk_size=settings.timer_bulk_size,
        concurrency=firing_limit,
        lease_ms=settings.timer_lease_ms,
        max_idle_ms=settings.timer_max_idle_ms,
    )
    # Other servers hear of this one's commits only while it runs its background services.
    broadcaster = None
    if settings.run_background_services:
        broadcaster = Broadcaster(dsn, wakeups)
        wakeups.subscribe(broadcaster)
    retention = None
    if settings.retention_days is not None and settings.retention_days > 0:
        policy = RetentionPolicy(
            settings.retention_days, settings.retention_archive, settings.retention_batch
        )
        retention = RetentionService(
            pool,
            clock,
            metrics,
            policy,
            hot_path_work=lambda: executor.committed + poller.claimed,
            finished_work=lambda: executor.finished,
        )
    keyring = KeyRing(
        pool,
        clock,
        token_ttl_s=settings.auth_token_ttl_s,
        session_ttl_s=settings.ui_session_ttl_s,
    )
    components = Components(
        workflows=workflows,
        executor=executor,
        results=GroupCommit(executor, metrics, max_batch=settings.group_commit_max),
        starts=StartGroup(executor, metrics, max_batch=settings.group_commit_max),
        poller=poller,
        jq=jq,
        http=http,
        lanes=lanes,
        runner=runner,
        timer_service=timer_service,
        schedules=ScheduleService(pool, clock, executor),
        event_processor=EventProcessor(workflows, executor, sandbox, wakeups, metrics),
        retention=retention,
        broadcaster=broadcaster,
        keyring=keyring,
        key_admin=KeyAdmin(pool, clock, on_change=keyring.load),
        audit=AuditTrail(pool, clock),
    )
    if settings.run_background_services:
        components.services = _background(settings, components, clock, wakeups, metrics)
    return components


def egress_policy(settings: Settings) -> EgressPolicy:
    """The HTTP egress policy the settings describe, with the server's own address denied. A
    malformed entry raises SettingsError naming it, before the server starts."""
    if settings.http_max_response_bytes < 1:
        raise SettingsError(
            "CONDUCTOR_HTTP_MAX_RESPONSE_BYTES must be a positive number of bytes,"
            f" not {settings.http_max_response_bytes}"
        )
    deny = DEFAULT_DENY if settings.http_deny is None else settings.http_deny
    try:
        binds = bind_addresses(settings.host)
    except OSError as exc:
        raise SettingsError(f"CONDUCTOR_HOST {settings.host!r} does not resolve: {exc}") from None
    # The machine's own addresses matter only when the server listens on all of them.
    machine = machine_addresses() if any(a.is_unspecified for a in binds) else set()
    return EgressPolicy(
        deny=_entries("CONDUCTOR_HTTP_DENY", deny),
        allow=_entries("CONDUCTOR_HTTP_ALLOW", settings.http_allow),
        own=own_entries(binds, settings.port, machine),
    )


def _entries(name: str, texts: tuple[str, ...]) -> tuple[Entry, ...]:
    try:
        return parse_entries(texts)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _background(
    settings: Settings, parts: Components, clock: Clock, wakeups: Wakeups, metrics: Metrics
) -> list[BackgroundService]:
    """The services a running server keeps going, and the relay that tells other servers."""
    services: list[BackgroundService] = [
        parts.timer_service,
        Periodic("timer-gauges", parts.timer_service.update_gauges, TIMER_GAUGES_S),
        parts.schedules,
        Periodic("poll-data", parts.poller.flush_poll_data, POLL_DATA_FLUSH_S),
        Periodic("queue-gauges", parts.poller.update_queue_gauges, QUEUE_GAUGES_S),
        Periodic("work-gauges", WorkGauges(parts.workflows.pool, metrics).update, WORK_GAUGES_S),
        parts.event_processor,
        Periodic("event-handler-gauges", parts.event_processor.update_gauges, EVENT_GAUGES_S),
        Periodic("key-ring", parts.keyring.refresh, settings.key_refresh_s),
        Periodic(
            "vacuum-horizon",
            VacuumHorizon(parts.workflows.pool, metrics).update,
            HORIZON_CHECK_S,
        ),
        Periodic(
            "table-statistics",
            TableStatistics(parts.workflows.pool, metrics).refresh,
            CHECK_INTERVAL_S,
        ),
    ]
    if parts.broadcaster is not None:
        services.extend(parts.broadcaster.services())
    if parts.retention is not None:
        services.append(parts.retention)
    if isinstance(clock, DatabaseClock):
        pool = parts.workflows.pool
        services.append(
            Periodic("database-clock", lambda: anchor_clock(pool, clock), ANCHOR_EVERY_S)
        )
    if settings.virtual_clock and isinstance(clock, JumpingClock):
        driver = VirtualClockDriver(parts.workflows.pool, clock, wakeups)
        services.append(Periodic("virtual-clock", driver.jump_if_idle, VIRTUAL_CLOCK_CHECK_S))
    return services
