"""Running the official JavaScript SDK (pinned in tests/e2e/js/package.json) from a test.

The node packages are installed on first use (`npm ci`, from the committed package-lock.json).
Without node, the tests are skipped, except on CI, where that is a failure. The `node` fixture
is registered in tests/e2e/conftest.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).parent / "js"
SDK_PACKAGE = "@io-orkes/conductor-javascript"
NPM_CI_TIMEOUT_S = 300.0


def _pinned_sdk_version() -> str:
    manifest = json.loads((JS_DIR / "package.json").read_text())
    return str(manifest["dependencies"][SDK_PACKAGE])


def _installed_sdk_version() -> str | None:
    manifest = JS_DIR / "node_modules" / SDK_PACKAGE / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"]).removeprefix("v")


def node_with_sdk() -> str:
    """The node executable, with the pinned SDK installed under tests/e2e/js."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the JavaScript SDK tests")
        pytest.skip("node and npm are not installed")
    if _installed_sdk_version() != _pinned_sdk_version():
        done = subprocess.run(
            [npm, "ci", "--legacy-peer-deps", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT_S,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed\n{done.stdout}\n{done.stderr}"
    assert _installed_sdk_version() == _pinned_sdk_version()
    return node


def node_result(stdout: str, stderr: str) -> dict[str, Any]:
    """The script's result: the last line of its stdout (with CI set, the SDK prints there too)."""
    lines = stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise AssertionError(f"no JSON result\nstdout:\n{stdout}\nstderr:\n{stderr}") from None
    return result


def node_env(
    server_api: str, key_id: str | None = None, secret: str | None = None
) -> dict[str, str]:
    """This environment without any CONDUCTOR_* variable, plus the SDK's server (and key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env["CONDUCTOR_SERVER_URL"] = server_api
    if key_id is not None and secret is not None:
        env["CONDUCTOR_AUTH_KEY"] = key_id
        env["CONDUCTOR_AUTH_SECRET"] = secret
    return env


def run_script(
    command: list[str], env: dict[str, str], timeout_s: float
) -> tuple[int, dict[str, Any]]:
    """Run a script under tests/e2e/js; (exit code, its JSON result)."""
    done = subprocess.run(
        command,
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return done.returncode, node_result(done.stdout, done.stderr)
