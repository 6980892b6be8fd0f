"""The HTTP system task: Conductor's `http_request` input, made with aiohttp's client.

Runs on the event loop without blocking it; connection and read timeouts come from the input
(Conductor's defaults: 3000 ms each). A non-2xx answer or a transport error fails the task, which
is then retried per its TaskDef like any other task.

Every call obeys the egress policy (services/egress.py), status webhooks included: the URL of
each hop is checked before it is requested, and a hostname's addresses as they are resolved
(services/egress_network.py). Redirects are followed here, not by aiohttp, so that each hop is
checked; the response body is read up to a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from yarl import URL

from conductor.engine.inputs import Input, TaskResultReceived
from conductor.engine.model import JSON, TaskState, TaskStatus
from conductor.engine.task_starts import async_complete
from conductor.services.egress import Denial, EgressPolicy
from conductor.services.egress_network import EgressDenied, PolicyResolver, denial_of

DEFAULT_TIMEOUT_MS = 3000
# Conductor's payload limit: a task output above it fails the task.
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Sent to the first origin only: credentials must not follow a redirect to another server.
_ORIGIN_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie", "Host")
_BODY_HEADERS = ("Content-Type", "Content-Length", "Transfer-Encoding")


def _request_of(input_data: JSON) -> JSON:
    request = input_data.get("http_request")
    return request if isinstance(request, dict) else input_data


def _timeout_ms(value: Any) -> float:
    try:
        return max(float(value), 1.0) if value is not None else DEFAULT_TIMEOUT_MS
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_MS


class _TooLarge(Exception):
    pass


class _TooManyRedirects(Exception):
    pass


@dataclass(frozen=True)
class _Hop:
    method: str
    url: URL
    headers: CIMultiDict[str]
    data: bytes | None

    def redirected(self, status: int, location: URL) -> _Hop:
        """The next request after a redirect, as browsers and `requests` make it: 303 becomes a
        GET (HEAD stays HEAD), so does 302, and 301 after a POST; 307 and 308 repeat the method
        and body. Credentials stay with the origin they were written for."""
        method, data, headers = self.method, self.data, CIMultiDict(self.headers)
        to_get = (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST")
        if to_get:
            method, data = "GET", None
            for name in _BODY_HEADERS:
                headers.popall(name, None)
        if not _same_origin(self.url, location):
            for name in _ORIGIN_HEADERS:
                headers.popall(name, None)
        return _Hop(method, location, headers, data)


def _first_hop(request: JSON, uri: str, method: str) -> _Hop:
    headers = CIMultiDict((str(k), str(v)) for k, v in (request.get("headers") or {}).items())
    accept = request.get("accept") or "application/json"
    headers.setdefault("Accept", ", ".join(accept) if isinstance(accept, list) else str(accept))
    body = request.get("body")
    data: bytes | None = None
    if body is not None:
        headers.setdefault("Content-Type", str(request.get("contentType") or "application/json"))
        data = body.encode() if isinstance(body, str) else orjson.dumps(body)
    return _Hop(method.upper(), URL(uri), headers, data)


def _timeout(request: JSON) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        sock_connect=_timeout_ms(request.get("connectionTimeOut")) / 1000,
        sock_read=_timeout_ms(request.get("readTimeOut")) / 1000,
    )


def _same_origin(old: URL, new: URL) -> bool:
    if old.raw_host != new.raw_host:
        return False
    upgrade = (old.scheme, old.port, new.scheme, new.port) == ("http", 80, "https", 443)
    return upgrade or (old.scheme, old.port) == (new.scheme, new.port)


class HttpTaskClient:
    def __init__(
        self,
        policy: EgressPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.policy = policy or EgressPolicy()
        self.max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No pool-wide cap: the runner's isolation lanes bound the calls per group, and a
            # shared cap would let one slow group's calls hold up every other group's.
            connector = aiohttp.TCPConnector(limit=0, resolver=PolicyResolver(self.policy))
            # No cookie jar: a cookie one workflow's target sets must not reach another's calls.
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post_json(self, url: str, body: JSON) -> str | None:
        """POST `body` to `url` (a status webhook): None when answered 2xx, else why not."""
        status, _output, reason = await self.call({"uri": url, "method": "POST", "body": body})
        return None if status is TaskStatus.COMPLETED else reason or f"HTTP call {status.value}"

    async def run(self, task: TaskState) -> Input:
        """The HTTP task's runtime: the call its input describes, as the task's result. With
        asyncComplete a 2xx answer leaves the task IN_PROGRESS, its response in the output,
        until an external update completes it; any other outcome is as without it (Conductor's
        HttpTask)."""
        status, output, reason = await self.call(task.input_data)
        if status is TaskStatus.COMPLETED and async_complete(task):
            status = TaskStatus.IN_PROGRESS
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
        if not isinstance(request.get("headers") or {}, dict):
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {}, "HTTP headers must be an object"
        try:
            status, result = await self._exchange(
                _first_hop(request, uri, method), _timeout(request)
            )
        except EgressDenied as exc:
            return _blocked(exc.denial)
        except _TooLarge:
            # Terminal, as Conductor fails a task whose output is over its payload limit: the
            # same call would answer as much again.
            reason = (
                f"HTTP task response body is larger than {self.max_response_bytes} bytes"
                " (CONDUCTOR_HTTP_MAX_RESPONSE_BYTES)"
            )
            return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {"response": reason}, reason
        except _TooManyRedirects as exc:
            reason = (
                f"Failed to invoke HTTP task due to: more than {MAX_REDIRECTS} redirects ({exc})"
            )
            return TaskStatus.FAILED, {"response": reason}, reason
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            denial = denial_of(exc)
            if denial is not None:
                return _blocked(denial)
            reason = f"Failed to invoke HTTP task due to: {type(exc).__name__}: {exc}"
            return TaskStatus.FAILED, {"response": reason}, reason
        if 200 <= status < 300:
            return TaskStatus.COMPLETED, {"response": result}, None
        reason = f"Failed to invoke HTTP task due to: status {status} {result['reasonPhrase']}"
        return TaskStatus.FAILED, {"response": result}, reason

    async def _exchange(self, hop: _Hop, timeout: aiohttp.ClientTimeout) -> tuple[int, JSON]:
        """Make the request and follow its redirects, each hop checked before it is sent."""
        for _ in range(MAX_REDIRECTS + 1):
            # A URL without a host passes here, and aiohttp refuses it itself.
            url = hop.url
            denial = self.policy.check_url(url.scheme, url.raw_host or "", url.port or 0)
            if denial is not None:
                raise EgressDenied(denial)
            async with self._client().request(
                hop.method,
                hop.url,
                headers=hop.headers,
                data=hop.data,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                location = response.headers.get("Location")
                if response.status not in _REDIRECTS or not location:
                    return response.status, await self._result(response)
            hop = hop.redirected(response.status, response.url.join(URL(location)))
        raise _TooManyRedirects(f"the last to {hop.url}")

    async def _result(self, response: aiohttp.ClientResponse) -> JSON:
        return {
            "statusCode": response.status,
            "reasonPhrase": response.reason or "",
            "headers": {str(k): response.headers.getall(k) for k in set(response.headers)},
            "body": _decode(await self._read(response)),
        }

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused past the cap: at most cap + 1 bytes are ever read."""
        cap = self.max_response_bytes
        if response.content_length is not None and response.content_length > cap:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while chunk := await response.content.read(cap + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                raise _TooLarge
        return b"".join(chunks)


def _blocked(denial: Denial) -> tuple[TaskStatus, JSON, str | None]:
    # Terminal: the policy is fixed for the server's life, so a retry would be refused again
    # (and it was refused before any connection, so there is nothing transient to wait out).
    reason = f"HTTP task blocked by egress policy: {denial}"
    return TaskStatus.FAILED_WITH_TERMINAL_ERROR, {"response": reason}, reason


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")
