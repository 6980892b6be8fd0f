"""The HTTP system task: Conductor's `http_request` input, made with aiohttp's client.

Runs on the event loop without blocking it; connection and read timeouts come from the input
(Conductor's defaults: 3000 ms each). A non-2xx answer or a transport error fails the task, which
is then retried per its TaskDef like any other task.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from conductor.engine.inputs import Input, TaskResultReceived
from conductor.engine.model import JSON, TaskState, TaskStatus

DEFAULT_TIMEOUT_MS = 3000


def _request_of(input_data: JSON) -> JSON:
    request = input_data.get("http_request")
    return request if isinstance(request, dict) else input_data


def _timeout_ms(value: Any) -> float:
    try:
        return max(float(value), 1.0) if value is not None else DEFAULT_TIMEOUT_MS
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS


class HttpTaskClient:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No pool-wide cap: the runner's isolation lanes bound the calls per group, and a
            # shared cap would let one slow group's calls hold up every other group's.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post_json(self, url: str, body: JSON) -> str | None:
        """POST `body` to `url` (a status webhook): None when answered 2xx, else why not."""
        status, _output, reason = await self.call({"uri": url, "method": "POST", "body": body})
        return None if status is TaskStatus.COMPLETED else reason or f"HTTP call {status.value}"

    async def run(self, task: TaskState) -> Input:
        """The HTTP task's runtime: the call its input describes, as the task's result."""
        status, output, reason = await self.call(task.input_data)
        return TaskResultReceived(task.task_id, status, output=output, reason=reason)

    async def call(self, input_data: JSON) -> tuple[TaskStatus, JSON, str | None]:
        request = _request_of(input_data)
        uri, method = request.get("uri"), request.get("method")
        if not isinstance(uri, str) or not uri:
            reason = (
                "Missing HTTP URI.  See documentation for HttpTask for required input parameters"
            )
            return TaskStatus.FAILED, {}, reason
        if not isinstance(method, str) or not method:
            return TaskStatus.FAILED, {}, "No HTTP method specified"
        headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
        accept = request.get("accept") or "application/json"
        headers.setdefault("Accept", ", ".join(accept) if isinstance(accept, list) else str(accept))
        body = request.get("body")
        data: bytes | None = None
        if body is not None:
            headers.setdefault(
                "Content-Type", str(request.get("contentType") or "application/json")
            )
            data = body.encode() if isinstance(body, str) else orjson.dumps(body)
        timeout = aiohttp.ClientTimeout(
            sock_connect=_timeout_ms(request.get("connectionTimeOut")) / 1000,
            sock_read=_timeout_ms(request.get("readTimeOut")) / 1000,
        )
        try:
            async with self._client().request(
                method.upper(), uri, headers=headers, data=data, timeout=timeout
            ) as response:
                raw = await response.read()
                result = {
                    "statusCode": response.status,
                    "reasonPhrase": response.reason or "",
                    "headers": {str(k): response.headers.getall(k) for k in set(response.headers)},
                    "body": _decode(raw),
                }
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = f"Failed to invoke HTTP task due to: {type(exc).__name__}: {exc}"
            return TaskStatus.FAILED, {"response": reason}, reason
        if 200 <= response.status < 300:
            return TaskStatus.COMPLETED, {"response": result}, None
        reason = f"Failed to invoke HTTP task due to: status {response.status} {response.reason}"
        return TaskStatus.FAILED, {"response": result}, reason


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")
