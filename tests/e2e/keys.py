"""API keys for end-to-end tests: made with the real `conductor keys` command, used over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from conductor.testing.server_process import ServerProcess
from tests.e2e.harness import wait_until_sync

KEY_PICKUP_S = 15.0  # a running server reloads keys every 2 s


@dataclass(frozen=True)
class Key:
    key_id: str
    secret: str


def conductor(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the `conductor` command as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "conductor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def create_key(database_url: str, *options: str) -> Key:
    done = conductor("keys", "--database-url", database_url, "--json", "create", *options)
    assert done.returncode == 0, done.stdout + done.stderr
    created = json.loads(done.stdout)
    return Key(created["keyId"], created["keySecret"])


def request(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """(status, decoded JSON body or raw bytes) of one request; errors are answers too."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Authorization"] = token
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers), timeout=10
        ) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def token_for_key(server: ServerProcess, key: Key) -> str | None:
    status, body = request(f"{server.api}/token", {"keyId": key.key_id, "keySecret": key.secret})
    return str(body["token"]) if status == 200 else None


def wait_for_key(server: ServerProcess, key: Key) -> str:
    """Wait until a running server accepts a key made elsewhere; a token for it."""
    wait_until_sync(lambda: token_for_key(server, key) is not None, KEY_PICKUP_S, what="key pickup")
    found = token_for_key(server, key)
    assert found is not None
    return found
