"""Async HTTP client for the parts of Conductor's REST API that workers and scripts use.

Only transport lives here: URLs, query parameters, status codes and JSON decoding. Any
non-2xx answer becomes a `ConductorError`; connection failures surface as aiohttp's own
`ClientError` or `TimeoutError`, and deciding what to retry is left to the caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from workers.errors import ConductorError
from workers.model import Task, TaskResult

logger = logging.getLogger(__name__)

_NO_CONTENT = 204


class ConductorClient:
    """Talks to one Conductor server, e.g. ``ConductorClient("http://localhost:8080/api")``."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession | None = None,
        *,
        request_timeout: float = 10.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._session = session
        # A session passed in belongs to the caller, who also closes it.
        self._owns_session = session is None
        self._request_timeout = request_timeout

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
        client_timeout = aiohttp.ClientTimeout(total=timeout or self._request_timeout)
        async with self._get_session().request(
            method,
            self._base + path,
            params=params,
            json=json_body,
            timeout=client_timeout,
        ) as resp:
            body = await resp.text()
            if resp.status >= 300:
                raise _error(resp.status, body)
            return resp.status, body


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
