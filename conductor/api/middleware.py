"""Maps every error to Conductor's error body: {status, message, instance, retryable, ...}."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from conductor.api.keys import METRICS
from conductor.api.outage import OUTAGE, RETRY_AFTER_S
from conductor.errors import BadRequest, ConductorError, TooManyRequests, ValidationFailed
from conductor.store.outages import is_unavailable

log = logging.getLogger(__name__)
_HOST = socket.gethostname()

LONG_POLL_ROUTES = frozenset({"/api/tasks/poll/{task_type}", "/api/tasks/poll/batch/{task_type}"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(status: int, message: str, retryable: bool = False) -> dict[str, object]:
    return {"status": status, "message": message, "instance": _HOST, "retryable": retryable}


def error_response(status: int, message: str, retryable: bool = False) -> web.Response:
    return web.json_response(error_body(status, message, retryable), status=status)


def _message_of(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == 404:
        return f"No resource found for {request.path}"
    if exc.status == 413:  # aiohttp's text names the cap on request bodies
        return exc.text or exc.reason
    return exc.reason


def _database_unavailable(request: web.Request, exc: Exception) -> web.Response:
    """503, retryable: the request did nothing that stuck, and will work once PostgreSQL is
    back. Logged once per outage, not once per request."""
    metrics = request.app.get(METRICS)
    if metrics is not None:
        metrics.db_errors.inc()
    outage = request.app.get(OUTAGE)
    if outage is not None:
        outage.noticed(exc)
    answer = error_response(503, "The database is unavailable; retry later", retryable=True)
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        if "%00" in request.raw_path:
            # PostgreSQL cannot store or compare text with NUL: refuse it at the edge.
            raise BadRequest("The path and query must not contain the NUL character (%00)")
        response = await handler(request)
        status = response.status
        outage = request.app.get(OUTAGE)
        # An API answer that is not an error needed the database (/metrics does not).
        if outage is not None and outage.ongoing and status < 400 and request.path[:5] == "/api/":
            outage.request_succeeded()
        return response
    except ValidationFailed as exc:
        status = 400
        body = error_body(400, exc.message)
        body["validationErrors"] = [
            {
                k: v
                for k, v in {
                    "path": e.path,
                    "message": e.message,
                    "invalidValue": e.invalid_value,
                }.items()
                if v is not None
            }
            for e in exc.errors
        ]
        return web.json_response(body, status=400)
    except ConductorError as exc:
        status = exc.status
        body = error_body(exc.status, exc.message, exc.retryable)
        if exc.code is not None:
            body["error"] = exc.code
        answer = web.json_response(body, status=exc.status)
        if isinstance(exc, TooManyRequests):
            answer.headers["Retry-After"] = str(exc.retry_after_s)
        return answer
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        return error_response(exc.status, _message_of(exc, request))
    except Exception as exc:
        if is_unavailable(exc):
            status = 503
            return _database_unavailable(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Internal server error")
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        metrics = request.app.get(METRICS)
        if metrics is not None:
            elapsed = time.perf_counter() - started
            if name in LONG_POLL_ROUTES:
                # A long poll waits for work by design: counted apart, or it would swamp the
                # request latency that alerts read.
                task_type = request.match_info.get("task_type", "")
                metrics.long_poll_seconds.labels(task_type, str(status)).observe(elapsed)
            else:
                metrics.http_requests.labels(request.method, name, str(status)).observe(elapsed)
