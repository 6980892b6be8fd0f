"""Composition root: builds the aiohttp Application and owns every resource's life cycle.

Cleanup contexts run in order and unwind in reverse: the database (embedded or external, migrated,
pooled) comes up first and goes down last; background services start after it and stop before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from conductor.api.handlers import (
    dry_run,
    events,
    health,
    metadata,
    operations,
    queue_admin,
    scheduler,
    search,
    tasks,
    workflows,
)
from conductor.api.keys import (
    CLOCK,
    DATABASE_KIND,
    EXECUTOR,
    METRICS,
    POLLER,
    POOL,
    SANDBOX,
    SETTINGS,
    WAKEUPS,
)
from conductor.api.longpoll import Poller
from conductor.api.middleware import errors
from conductor.clock import Clock, JumpingClock, SystemClock
from conductor.config import Settings
from conductor.executor import Executor
from conductor.metrics import Metrics
from conductor.services.broadcast import Broadcaster
from conductor.services.event_processor import EventProcessor
from conductor.services.http_task import HttpTaskClient
from conductor.services.jq_runner import JqRunner
from conductor.services.retention import RetentionPolicy, RetentionService
from conductor.services.scripts import ScriptSandbox
from conductor.services.system_task_runner import SystemTaskRunner
from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate
from conductor.store.pool import create_pool
from conductor.timers.routes import HANDLER_KINDS
from conductor.timers.scheduler import ScheduleService
from conductor.timers.service import TimerService
from conductor.timers.virtual import VirtualClockDriver
from conductor.ui import routes as ui_routes
from conductor.wakeups import Wakeups

log = logging.getLogger(__name__)

TIMER_SERVICE = web.AppKey("timer_service", TimerService)
BROADCASTER = web.AppKey("broadcaster", Broadcaster)
SYSTEM_TASK_RUNNER = web.AppKey("system_task_runner", SystemTaskRunner)
SCHEDULE_SERVICE = web.AppKey("schedule_service", ScheduleService)
RETENTION_SERVICE = web.AppKey("retention_service", RetentionService)
EVENT_PROCESSOR = web.AppKey("event_processor", EventProcessor)
MAX_BODY_BYTES = 12 * 1024 * 1024  # above Conductor's 10 MB payload limit; larger gets 413


def create_app(
    settings: Settings, *, clock: Clock | None = None, metrics: Metrics | None = None
) -> web.Application:
    app = web.Application(middlewares=[errors], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = metrics or Metrics()
    app[WAKEUPS] = Wakeups()
    app[SANDBOX] = ScriptSandbox()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_services)
    app.add_routes(health.routes())
    app.add_routes(metadata.routes())
    app.add_routes(search.routes())
    app.add_routes(dry_run.routes())
    app.add_routes(events.routes())
    app.add_routes(queue_admin.routes())
    app.add_routes(operations.routes())
    app.add_routes(workflows.routes())
    app.add_routes(tasks.routes())
    app.add_routes(scheduler.routes())
    app.add_routes(ui_routes.routes())
    app.on_shutdown.append(_stop_polls)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
        app[DATABASE_KIND] = "embedded"
    else:
        app[DATABASE_KIND] = "external"
    try:
        pool = await create_pool(dsn, max_size=settings.pool_size)
        async with pool.acquire() as conn:
            await migrate(conn)
        app[POOL] = pool
        timer_pool = await create_pool(dsn, min_size=1, max_size=settings.timer_pool_size)
        broadcaster = Broadcaster(dsn, app[WAKEUPS]) if settings.run_background_services else None
        if broadcaster is not None:
            app[BROADCASTER] = broadcaster
            app[WAKEUPS].subscribe(broadcaster)
        app[EXECUTOR] = Executor(pool, app[CLOCK], app[WAKEUPS], app[METRICS])
        app[POLLER] = Poller(pool, app[CLOCK], app[WAKEUPS], app[METRICS], app[EXECUTOR].limits)
        jq_runner = JqRunner()
        http_client = HttpTaskClient()
        runner = SystemTaskRunner(
            pool,
            app[EXECUTOR],
            app[SANDBOX],
            jq_runner,
            http_client,
            concurrency=max(1, settings.timer_pool_size - 2),
            lane_size=settings.system_task_lane_size,
        )
        app[SYSTEM_TASK_RUNNER] = runner
        app[SCHEDULE_SERVICE] = ScheduleService(pool, app[CLOCK], app[EXECUTOR])
        app[EVENT_PROCESSOR] = EventProcessor(pool, app[EXECUTOR], app[SANDBOX], app[WAKEUPS])
        if settings.retention_days is not None and settings.retention_days > 0:
            policy = RetentionPolicy(
                settings.retention_days, settings.retention_archive, settings.retention_batch
            )
            executor, poller = app[EXECUTOR], app[POLLER]
            app[RETENTION_SERVICE] = RetentionService(
                pool,
                app[CLOCK],
                app[METRICS],
                policy,
                hot_path_work=lambda: executor.committed + poller.claimed,
            )
        app[TIMER_SERVICE] = TimerService(
            timer_pool,
            app[CLOCK],
            app[EXECUTOR],
            app[WAKEUPS],
            app[METRICS],
            {kind: runner.run for kind in HANDLER_KINDS},
            batch=settings.timer_batch,
            bulk_size=settings.timer_bulk_size,
            concurrency=max(1, settings.timer_pool_size - 2),  # two for the claiming lanes
            lease_ms=settings.timer_lease_ms,
            max_idle_ms=settings.timer_max_idle_ms,
        )
        yield
        jq_runner.close()
        await http_client.close()
        await timer_pool.close()
        await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _services(app: web.Application) -> AsyncIterator[None]:
    if not app[SETTINGS].run_background_services:
        yield
        return
    broadcaster = app[BROADCASTER]
    await broadcaster.start()
    timer_service = app[TIMER_SERVICE]
    background = [
        asyncio.create_task(timer_service.run(), name="timer-service"),
        asyncio.create_task(timer_service.run_gauges(), name="timer-gauges"),
        asyncio.create_task(app[SCHEDULE_SERVICE].run(), name="schedules"),
        asyncio.create_task(app[POLLER].run_poll_data_flusher(), name="poll-data-flusher"),
    ]
    background.append(asyncio.create_task(app[EVENT_PROCESSOR].run(), name="event-processor"))
    if RETENTION_SERVICE in app:
        background.append(asyncio.create_task(app[RETENTION_SERVICE].run(), name="retention"))
    clock = app[CLOCK]
    if app[SETTINGS].virtual_clock and isinstance(clock, JumpingClock):
        driver = VirtualClockDriver(app[POOL], clock, app[WAKEUPS])
        background.append(asyncio.create_task(driver.run(), name="virtual-clock"))
    yield
    timer_service.stop()
    app[SCHEDULE_SERVICE].stop()
    app[EVENT_PROCESSOR].stop()
    if RETENTION_SERVICE in app:
        app[RETENTION_SERVICE].stop()
    for task in background:
        task.cancel()
    for task in background:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await broadcaster.stop()


async def _stop_polls(app: web.Application) -> None:
    if POLLER in app:
        app[POLLER].stop()
