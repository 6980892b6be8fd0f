"""Runs the README's first-run commands verbatim in a fresh clone: the server, then the example.

    python3 .ci/readme_first_run.py

The commands are read from the README's opening code blocks (and the `make ... PORT=...` variants
its first paragraph names), so the README cannot drift from what works. `make test` is left to
CI's own run of it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 300  # the first `make run` creates .venv and installs the server
EXAMPLE_TIMEOUT_S = 120


def first_run_commands(readme: str) -> list[str]:
    """Indented commands and backticked `make` commands before the README's first section."""
    opening = readme.split("\n## ", 1)[0]
    commands = [
        line.split("#", 1)[0].strip()
        for line in opening.splitlines()
        if line.startswith("    ") and line.strip()
    ]
    commands += re.findall(r"`(make [a-z]+ [A-Z]+=\d+)`", opening)
    return [c for c in commands if c != "make test"]


def wait_for_health(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no answer on port {port} within {STARTUP_TIMEOUT_S} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main() -> int:
    commands = first_run_commands((REPO / "README.md").read_text())
    runs = [c for c in commands if c.startswith("make run")]
    examples = [c for c in commands if c.startswith("make example")]
    if not runs or not examples:
        raise SystemExit(
            f"the README's first lines name no server and example commands: {commands}"
        )
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
        for run in runs:
            port = int(m.group(1)) if (m := re.search(r"PORT=(\d+)", run)) else 8080
            example = next(e for e in examples if (f"PORT={port}" in e) == ("PORT=" in run))
            print(f"--- {run}  /  {example}", flush=True)
            server = subprocess.Popen(run, shell=True, cwd=clone, env=env, start_new_session=True)
            try:
                wait_for_health(port, server)
                done = subprocess.run(
                    example,
                    shell=True,
                    cwd=clone,
                    env=env,
                    timeout=EXAMPLE_TIMEOUT_S,
                    capture_output=True,
                    text=True,
                )
                print(done.stdout, end="")
                if done.returncode != 0 or "status: COMPLETED" not in done.stdout:
                    print(done.stderr, file=sys.stderr)
                    raise SystemExit(f"`{example}` failed with exit code {done.returncode}")
            finally:
                stop(server)
    print("the README's first-run commands work in a fresh clone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
