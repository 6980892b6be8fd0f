"""The aiohttp Application: routes, and the life cycle of the database and of the server's parts.

Cleanup contexts run in order and unwind in reverse: the database (embedded or external, migrated,
pooled) comes up first and goes down last; the parts (conductor/wiring.py) are built on it; the
supervisor starts the background services after them and stops them first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from conductor.api.auth import authorize
from conductor.api.browser_guard import same_origin_writes, security_headers
from conductor.api.handlers import (
    admin,
    dry_run,
    events,
    health,
    metadata,
    operations,
    queue_admin,
    scheduler,
    search,
    tasks,
    tokens,
    workflows,
)
from conductor.api.keys import (
    ADMISSION,
    AUDIT,
    CLOCK,
    DATABASE_KIND,
    EXECUTOR,
    KEY_ADMIN,
    KEYRING,
    METRICS,
    POLLER,
    POOL,
    RESULTS,
    SANDBOX,
    SETTINGS,
    STARTS,
    WAKEUPS,
    WORKFLOWS,
)
from conductor.api.middleware import errors
from conductor.api.openapi import handlers as openapi_handlers
from conductor.api.openapi.validation import validate_bodies
from conductor.api.outage import OUTAGE, DatabaseOutage
from conductor.api.request_ids import echo_request_id, request_ids
from conductor.background import Periodic, Supervisor
from conductor.clock import Clock, DatabaseClock
from conductor.config import Settings
from conductor.errors import StartupRefused
from conductor.metrics import Metrics
from conductor.services.admission import DUE_SOON_CHECK_S, DueSoonMeter, StartAdmission
from conductor.services.database_clock import anchor as anchor_clock
from conductor.services.egress import EgressPolicy
from conductor.services.event_processor import EventProcessor
from conductor.services.retention import RetentionService
from conductor.services.scripts import ScriptSandbox
from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate
from conductor.store.pool import create_pool
from conductor.timers.scheduler import ScheduleService
from conductor.timers.service import TimerService
from conductor.ui import routes as ui_routes
from conductor.wakeups import Wakeups
from conductor.wiring import Components, egress_policy, wire

log = logging.getLogger(__name__)
COMPONENTS = web.AppKey("components", Components)
TIMER_SERVICE = web.AppKey("timer_service", TimerService)
SCHEDULE_SERVICE = web.AppKey("schedule_service", ScheduleService)
RETENTION_SERVICE = web.AppKey("retention_service", RetentionService)
EVENT_PROCESSOR = web.AppKey("event_processor", EventProcessor)
_DSN = web.AppKey("dsn", str)
_TIMER_POOL = web.AppKey("timer_pool", asyncpg.Pool)
_EGRESS = web.AppKey("egress", EgressPolicy)
MAX_BODY_BYTES = 12 * 1024 * 1024  # above Conductor's 10 MB payload limit; larger gets 413


def create_app(
    settings: Settings, *, clock: Clock | None = None, metrics: Metrics | None = None
) -> web.Application:
    app = web.Application(
        middlewares=[request_ids, errors, same_origin_writes, authorize, validate_bodies],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or DatabaseClock()
    app[METRICS] = metrics or Metrics()
    app[WAKEUPS] = Wakeups()
    app[OUTAGE] = DatabaseOutage()
    app[SANDBOX] = ScriptSandbox()
    app[ADMISSION] = StartAdmission(
        app[METRICS],
        settings.start_concurrency,
        settings.max_start_backlog,
        settings.start_wait_target_ms,
        busy_concurrency=settings.start_concurrency_busy,
        idle_concurrency=settings.start_concurrency_idle,
    )
    # Built now, so that a malformed setting stops the server before it starts anything.
    app[_EGRESS] = egress_policy(settings)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_components)
    app.cleanup_ctx.append(_services)
    app.add_routes(health.routes())
    app.add_routes(tokens.routes())
    app.add_routes(admin.routes())
    app.add_routes(metadata.routes())
    app.add_routes(search.routes())
    app.add_routes(dry_run.routes())
    app.add_routes(events.routes())
    app.add_routes(queue_admin.routes())
    app.add_routes(operations.routes())
    app.add_routes(workflows.routes())
    app.add_routes(tasks.routes())
    app.add_routes(scheduler.routes())
    openapi_handlers.setup(app)
    ui_routes.setup(app)
    app.on_response_prepare.append(security_headers)
    app.on_response_prepare.append(echo_request_id)
    app.on_shutdown.append(_stop_polls)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """The database: embedded unless a URL is set; migrated; a main pool and the timers' own.

    A process started by a supervisor (`--processes N`) gets the URL from it and finds the
    schema migrated: the supervisor owns the embedded database and the migrations.
    """
    settings = app[SETTINGS]
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    shares_embedded = settings.supervisor_pid is not None and settings.supervisor_embedded
    app[DATABASE_KIND] = "embedded" if embedded or shares_embedded else "external"
    try:
        pool = await create_pool(dsn, max_size=settings.pool_size)
        try:
            if settings.supervisor_pid is None:
                async with pool.acquire() as conn:
                    await migrate(conn)
            # A flood of API requests cannot make a due timer wait for a connection.
            clock = app[CLOCK]
            if isinstance(clock, DatabaseClock):  # before anything reads the time
                await anchor_clock(pool, clock)
            timer_pool = await create_pool(dsn, min_size=1, max_size=settings.timer_pool_size)
            app[_DSN], app[POOL], app[_TIMER_POOL] = dsn, pool, timer_pool
            app[METRICS].watch_pools({"main": pool, "timers": timer_pool})
            yield
            await timer_pool.close()
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _components(app: web.Application) -> AsyncIterator[None]:
    parts = wire(
        app[SETTINGS],
        dsn=app[_DSN],
        pool=app[POOL],
        timer_pool=app[_TIMER_POOL],
        clock=app[CLOCK],
        metrics=app[METRICS],
        wakeups=app[WAKEUPS],
        sandbox=app[SANDBOX],
        egress=app[_EGRESS],
    )
    app[COMPONENTS] = parts
    if parts.services:  # the gate widens only while measured: not with background services off
        meter = DueSoonMeter(parts.workflows.pool, app[CLOCK], app[ADMISSION])
        parts.services.append(Periodic("timers-due-soon", meter.measure, DUE_SOON_CHECK_S))
    app[WORKFLOWS] = parts.workflows
    app[EXECUTOR] = parts.executor
    app[RESULTS] = parts.results
    app[STARTS] = parts.starts
    # Starts wait while queued tasks are claimed late (services/admission.py).
    parts.poller.add_claim_wait_listener(app[ADMISSION].note_claim_wait)
    parts.executor.add_timer_listener(app[ADMISSION].note_timers_written)
    app[POLLER] = parts.poller
    app[TIMER_SERVICE] = parts.timer_service
    app[SCHEDULE_SERVICE] = parts.schedules
    app[EVENT_PROCESSOR] = parts.event_processor
    app[KEYRING], app[KEY_ADMIN], app[AUDIT] = parts.keyring, parts.key_admin, parts.audit
    await parts.keyring.load()
    _refuse_open_network(app[SETTINGS], parts.keyring.enabled)
    if parts.retention is not None:
        app[RETENTION_SERVICE] = parts.retention
    yield
    await parts.starts.drain()
    await parts.results.drain()
    await parts.close()


def _refuse_open_network(settings: Settings, keys_exist: bool) -> None:
    """Secure by default: reachable from a network means authenticated, unless told otherwise."""
    if keys_exist or settings.loopback_only:
        return
    where = f"{settings.host}:{settings.port}"
    if not settings.insecure_no_auth:
        raise StartupRefused(
            f"refusing to listen on {where} without authentication: create an API key with"
            " `conductor keys create --role admin`, listen on 127.0.0.1, or pass"
            " --insecure-no-auth"
        )
    log.warning(
        "authentication is OFF and the server listens on %s: anyone who can reach it can read"
        " and change everything (--insecure-no-auth)",
        where,
    )


async def _services(app: web.Application) -> AsyncIterator[None]:
    supervisor = Supervisor(app[METRICS])
    for service in app[COMPONENTS].services:
        supervisor.start(service)
    yield
    await supervisor.stop()


async def _stop_polls(app: web.Application) -> None:
    if POLLER in app:
        app[POLLER].stop()
