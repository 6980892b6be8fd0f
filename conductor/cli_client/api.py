"""A small synchronous client of the server's REST API for the command line."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_SERVER_URL = "http://localhost:8080/api"
TIMEOUT_S = 30.0


class CommandFailed(Exception):
    """What went wrong, in one line for the user."""


class Api:
    def __init__(self, server_url: str, key_id: str | None = None, secret: str | None = None):
        self.base = server_url.rstrip("/")
        self._key = (key_id, secret) if key_id and secret else None
        self._token: str | None = None

    @classmethod
    def from_env(cls, server_url: str | None) -> Api:
        return cls(
            server_url or os.environ.get("CONDUCTOR_SERVER_URL") or DEFAULT_SERVER_URL,
            os.environ.get("CONDUCTOR_AUTH_KEY"),
            os.environ.get("CONDUCTOR_AUTH_SECRET"),
        )

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, query=query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.call("POST", path, body, query)

    def put(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.call("PUT", path, body, query)

    def delete(self, path: str, **query: Any) -> Any:
        return self.call("DELETE", path, query=query)

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        """The decoded JSON answer (or its text); CommandFailed for anything but 2xx."""
        headers = {"Accept": "application/json"}
        token = self._auth_token()
        if token is not None:
            headers["X-Authorization"] = token
        return self._send(method, path, body, query, headers)

    def _auth_token(self) -> str | None:
        if self._key is None or self._token is not None:
            return self._token
        key_id, secret = self._key
        answer = self._send("POST", "/token", {"keyId": key_id, "keySecret": secret}, None, {})
        self._token = str(answer["token"])
        return self._token

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        query: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> Any:
        url = self.base + path
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return _decode(response.read())
        except urllib.error.HTTPError as exc:
            raise CommandFailed(_server_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommandFailed(
                f"no Conductor server answers at {self.base} ({reason}); start one with"
                " `conductor server`, or give its API address with --server or"
                " CONDUCTOR_SERVER_URL"
            ) from None


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _server_message(exc: urllib.error.HTTPError) -> str:
    """Conductor's error body says what was wrong; fall back to the status line."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    details = [
        f"{e.get('path', '')}: {e.get('message', '')}".strip(": ")
        for e in (body.get("validationErrors") or [] if isinstance(body, dict) else [])
        if isinstance(e, dict)
    ]
    text = message or exc.reason or "request failed"
    if details:
        text += " (" + "; ".join(details) + ")"
    return f"HTTP {exc.code}: {text}"
