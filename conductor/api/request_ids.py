"""A request id on every request: the caller's `X-Request-Id` when it is sane, else a new one.

It is returned in the response and carried by every log record written while the request is
handled (conductor/logs.py), so a client's report can be matched to the server's lines.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from conductor import logs

HEADER = "X-Request-Id"
# Bounded and plain, so a caller cannot inject log lines or fill the logs.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_KEY = web.RequestKey("request_id", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_id_of(request: web.Request) -> str:
    given = request.headers.get(HEADER, "")
    return given if _ACCEPTED.fullmatch(given) else uuid.uuid4().hex


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[_KEY] = request_id_of(request)
    token = logs.request_id.set(request[_KEY])
    try:
        return await handler(request)
    finally:
        logs.request_id.reset(token)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, streamed or not, says which request it answers."""
    request_id = request.get(_KEY)
    if request_id is not None:
        response.headers[HEADER] = request_id
