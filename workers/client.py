"""Async HTTP client for the parts of Conductor's REST API that workers and scripts use.

Only transport lives here: URLs, query parameters, status codes and JSON decoding. Any
non-2xx answer becomes a `ConductorError`; connection failures surface as aiohttp's own
`ClientError` or `TimeoutError`, and deciding what to retry is left to the caller.

Given a key id and secret (or CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET, as the official SDKs
read them), the client fetches a token from POST /token, sends it in X-Authorization, and fetches
a new one when the server says it expired. A server that answers 404 there has no
authentication, and the client goes on without tokens.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from workers.errors import ConductorError
from workers.model import Task, TaskResult

logger = logging.getLogger(__name__)

_NO_CONTENT = 204
_UNAUTHORIZED = 401
_NOT_FOUND = 404


class ConductorClient:
    """Talks to one Conductor server, e.g. ``ConductorClient("http://localhost:8080/api")``."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession | None = None,
        *,
        request_timeout: float = 10.0,
        key_id: str | None = None,
        key_secret: str | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._session = session
        # A session passed in belongs to the caller, who also closes it.
        self._owns_session = session is None
        self._request_timeout = request_timeout
        key_id = key_id or os.environ.get("CONDUCTOR_AUTH_KEY")
        key_secret = key_secret or os.environ.get("CONDUCTOR_AUTH_SECRET")
        self._credentials = (key_id, key_secret) if key_id and key_secret else None
        self._token: str | None = None

    async def __aenter__(self) -> ConductorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- worker protocol -------------------------------------------------------------------

    async def batch_poll(
        self,
        task_type: str,
        worker_id: str,
        count: int,
        timeout_ms: int,
        domain: str | None = None,
    ) -> list[Task]:
        """Claim up to `count` tasks, long-polling the server for up to `timeout_ms`."""
        params = {"workerid": worker_id, "count": str(count), "timeout": str(timeout_ms)}
        if domain:
            params["domain"] = domain
        # The server may hold the request for the whole long-poll window.
        timeout = timeout_ms / 1000 + self._request_timeout
        status, body = await self._request(
            "GET", f"/tasks/poll/batch/{_segment(task_type)}", params=params, timeout=timeout
        )
        if status == _NO_CONTENT or not body:
            return []
        payload = _decode(status, body)
        if not isinstance(payload, list):
            raise ConductorError(status, "batch poll did not return a JSON array")
        return _parse_tasks(task_type, payload)

    async def update(self, result: TaskResult) -> None:
        """Report a task result (POST /tasks)."""
        await self._request("POST", "/tasks", json_body=result.to_json())

    async def update_v2(self, result: TaskResult) -> Task | None:
        """Report a task result and receive the next claimed task of that type, if any."""
        status, body = await self._request("POST", "/tasks/update-v2", json_body=result.to_json())
        if status == _NO_CONTENT or not body:
            return None
        return Task.from_json(_decode(status, body))

    # -- helpers for scripts and tests -----------------------------------------------------

    async def start_workflow(
        self,
        name: str,
        input: Mapping[str, Any],
        version: int | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Start a workflow by name and return its id."""
        params: dict[str, str] = {}
        if version is not None:
            params["version"] = str(version)
        if correlation_id is not None:
            params["correlationId"] = correlation_id
        _, body = await self._request(
            "POST", f"/workflow/{_segment(name)}", params=params, json_body=dict(input)
        )
        return body.strip()

    async def get_workflow(self, workflow_id: str, include_tasks: bool = True) -> dict[str, Any]:
        """Fetch a workflow execution as its JSON object."""
        params = {"includeTasks": "true" if include_tasks else "false"}
        status, body = await self._request(
            "GET", f"/workflow/{_segment(workflow_id)}", params=params
        )
        payload = _decode(status, body)
        if not isinstance(payload, dict):
            raise ConductorError(status, "workflow is not a JSON object")
        return payload

    async def register_task_defs(self, task_defs: Sequence[Mapping[str, Any]]) -> None:
        """Create or update task definitions."""
        await self._request("POST", "/metadata/taskdefs", json_body=[dict(d) for d in task_defs])

    async def register_workflow_def(
        self, workflow_def: Mapping[str, Any], overwrite: bool = True
    ) -> None:
        """Create a workflow definition, replacing an existing version when `overwrite`."""
        params = {"overwrite": "true" if overwrite else "false"}
        await self._request(
            "POST", "/metadata/workflow", params=params, json_body=dict(workflow_def)
        )

    # -- transport ---------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily because a ClientSession must be made inside a running loop.
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: object = None,
        timeout: float | None = None,
    ) -> tuple[int, str]:
        """Send one request; return (status, body text) for 2xx, raise ConductorError else."""
        if self._credentials is not None and self._token is None:
            await self._fetch_token()
        status, body = await self._send(method, path, params, json_body, timeout)
        if status == _UNAUTHORIZED and self._credentials is not None and _token_refused(body):
            await self._fetch_token()
            status, body = await self._send(method, path, params, json_body, timeout)
        if status >= 300:
            raise _error(status, body)
        return status, body

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: object,
        timeout: float | None,
    ) -> tuple[int, str]:
        client_timeout = aiohttp.ClientTimeout(total=timeout or self._request_timeout)
        headers = {"X-Authorization": self._token} if self._token else None
        async with self._get_session().request(
            method,
            self._base + path,
            params=params,
            json=json_body,
            headers=headers,
            timeout=client_timeout,
        ) as resp:
            return resp.status, await resp.text()

    async def _fetch_token(self) -> None:
        assert self._credentials is not None
        key_id, key_secret = self._credentials
        self._token = None
        status, body = await self._send(
            "POST", "/token", None, {"keyId": key_id, "keySecret": key_secret}, None
        )
        if status == _NOT_FOUND:  # a server without authentication, like Conductor OSS
            self._credentials = None
            return
        if status >= 300:
            raise _error(status, body)
        payload = _decode(status, body)
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str):
            raise ConductorError(status, "POST /token did not return a token")
        self._token = token


def _token_refused(body: str) -> bool:
    """Whether a 401 says the token is stale (fetch another) rather than the key being wrong."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("error") in ("EXPIRED_TOKEN", "INVALID_TOKEN")


def _segment(value: str) -> str:
    """Quote a value for use as one URL path segment (task and workflow names may hold '/')."""
    return quote(value, safe="")


def _decode(status: int, body: str) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ConductorError(status, f"response is not JSON: {body[:200]!r}") from exc


def _parse_tasks(task_type: str, payload: list[object]) -> list[Task]:
    tasks = []
    for item in payload:
        try:
            tasks.append(Task.from_json(item))
        except ValueError as exc:
            # The server already claimed it, but without ids it can never be answered;
            # skipping keeps the rest of the batch usable.
            logger.error("dropping malformed %s task from poll: %s", task_type, exc)
    return tasks


def _error(status: int, body: str) -> ConductorError:
    """Build a ConductorError from Conductor's ErrorResponse JSON, or from plain text."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        message = payload.get("message")
        return ConductorError(
            status,
            message if isinstance(message, str) else body[:500],
            retryable=payload.get("retryable") is True,
        )
    return ConductorError(status, body[:500] or "(empty body)")
