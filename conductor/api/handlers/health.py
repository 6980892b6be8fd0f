"""/health (answers 200 only when the database does), /metrics (Prometheus text) and
/api/version (the server's release, as text like Conductor's).

/health names the process that answered in `X-Conductor-Pid`: with `--processes N` the kernel
picks one per connection, and this is how to tell them apart.
"""

from __future__ import annotations

import asyncio
import functools
import os
from importlib import metadata

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from conductor.api import requests as rq
from conductor.api.keys import DATABASE_KIND, METRICS, POOL
from conductor.api.permissions import requires
from conductor.roles import Permission
from conductor.store import tasks as store

_HEALTH_TIMEOUT_S = 2.0


@requires(Permission.PUBLIC)
async def health(request: web.Request) -> web.Response:
    response = await _health(request)
    response.headers["X-Conductor-Pid"] = str(os.getpid())
    return response


async def _health(request: web.Request) -> web.Response:
    kind = request.app[DATABASE_KIND]
    try:
        async with asyncio.timeout(_HEALTH_TIMEOUT_S):
            async with request.app[POOL].acquire() as conn:
                version, read_only = await store.health(conn)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return rq.json_response(
            {"healthy": False, "database": kind, "error": str(exc) or type(exc).__name__}, 503
        )
    if read_only:
        return rq.json_response({"healthy": False, "database": kind, "error": "read-only"}, 503)
    return rq.json_response({"healthy": True, "database": kind, "databaseVersion": version})


@requires(Permission.PUBLIC)
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=body)
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


@requires(Permission.READ)
async def version(_request: web.Request) -> web.Response:
    return rq.text(_release())


@functools.cache
def _release() -> str:
    # importlib.metadata scans every installed distribution: 0.3 ms a call, the same answer.
    return metadata.version("conductor-py-server")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/health", health),
        web.get("/api/health", health),
        web.get("/metrics", metrics),
        web.get("/api/version", version),
    ]
