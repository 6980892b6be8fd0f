"""Server processes for end-to-end tests: start, wait for /health, SIGKILL, restart, collect logs.

Each server is a real `python -m conductor server` subprocess on its own free port, so a test can
`kill -9` it and start it again on the same port and database. Its stdout and stderr go to a log
file that survives restarts (each launch appends a header line); the e2e conftest attaches the
tail of every live server's log to a failing test's report.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import aiohttp

STARTUP_TIMEOUT_S = 30.0
_PROBE_INTERVAL_S = 0.05
_STOP_GRACE_S = 10.0

# Servers launched and not yet stopped, for log tails in failure reports.
LIVE: list[ServerProcess] = []

_LIBC: ctypes.CDLL | None
try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not Linux: no parent-death signal, teardown still stops every server
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if pytest dies without its teardown."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_sync(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> None:
    """Poll a condition until it holds; fail the test at the deadline (sync tests)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {what or predicate}")
        time.sleep(interval)


class ServerProcess:
    """One `conductor server` subprocess bound to a fixed port and database."""

    def __init__(self, name: str, port: int, database_url: str, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.database_url = database_url
        self.log_path = log_path
        self.launches = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._exit_reported = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def launch(self) -> None:
        """Start the process without waiting for it to become ready."""
        if self.alive:
            raise RuntimeError(f"server {self.name} is already running")
        self.launches += 1
        command = [
            sys.executable,
            "-m",
            "conductor",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            self.database_url,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            log.write(f"=== launch {self.launches}: port {self.port} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent,
            )
        if self not in LIVE:
            LIVE.append(self)

    def start(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.launch()
        self.wait_ready(timeout)

    async def start_async(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.launch()
        await self.wait_ready_async(timeout)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Block until GET /health answers 200; fail with the log tail if it never does."""
        deadline = time.monotonic() + timeout
        while not self._probe():
            self._check_deadline(deadline, timeout)
            time.sleep(_PROBE_INTERVAL_S)

    async def wait_ready_async(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Like wait_ready, without blocking the event loop (workers keep running meanwhile)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while not await self._probe_async(session):
                self._check_deadline(deadline, timeout)
                await asyncio.sleep(_PROBE_INTERVAL_S)

    def _check_deadline(self, deadline: float, timeout: float) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._exit_reported = True
            raise AssertionError(
                f"server {self.name} exited with {self._proc.returncode} during startup\n"
                f"{self.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"server {self.name} not healthy within {timeout} s\n{self.log_tail()}"
            )

    def _probe(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1.0) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    async def _probe_async(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(
                f"{self.url}/health", timeout=aiohttp.ClientTimeout(total=1.0)
            ) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def kill(self) -> None:
        """SIGKILL the process (a crash: no shutdown code runs) and reap it."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGKILL)
        self._proc.wait()
        self._log_line(f"=== SIGKILL by test (pid {self._proc.pid}) ===")

    def stop(self) -> int | None:
        """Ask the process to exit (SIGTERM), SIGKILL it after a grace period; return its code.

        None means it was not running when asked.
        """
        if self._proc is None or self._proc.poll() is not None:
            return None
        self._proc.terminate()
        try:
            return self._proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            self._log_line(f"=== did not stop within {_STOP_GRACE_S} s of SIGTERM: killed ===")
            return self._proc.returncode

    def exited_by_itself(self) -> bool:
        """True if the process died without being killed or stopped by the harness."""
        if self._proc is None or self._exit_reported:
            return False
        return self._proc.poll() not in (None, -signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return f"(no log at {self.log_path})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"

    def _log_line(self, line: str) -> None:
        with self.log_path.open("a") as log:
            log.write(line + "\n")


class Servers:
    """Starts and owns server processes on one database; `close()` stops them all."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self._servers: list[ServerProcess] = []

    def start(self, count: int = 1, timeout: float = STARTUP_TIMEOUT_S) -> list[ServerProcess]:
        """Launch `count` servers at once, then wait until every one is healthy."""
        started = []
        for _ in range(count):
            index = len(self._servers)
            server = ServerProcess(
                f"server{index}",
                free_port(),
                self.database_url,
                self.log_dir / f"server{index}.log",
            )
            self._servers.append(server)
            server.launch()
            started.append(server)
        for server in started:
            server.wait_ready(timeout)
        return started

    def close(self) -> list[str]:
        """Stop every server; return complaints about servers that died or stopped badly."""
        problems = []
        for server in self._servers:
            if server.exited_by_itself():
                problems.append(f"server {server.name} exited by itself\n{server.log_tail()}")
            code = server.stop()
            if code not in (None, 0):
                problems.append(
                    f"server {server.name} exited with {code} after SIGTERM\n{server.log_tail()}"
                )
            if server in LIVE:
                LIVE.remove(server)
        return problems
