"""The real server as a subprocess on its own port, for end-to-end tests and benchmarks.

`ServerProcess` runs `python -m conductor server` on a given port and database URL and waits,
with a deadline, until GET /health answers 200; if the process exits or never answers, the error
carries the tail of its log. It can be SIGKILLed (a crash: no shutdown code runs), stopped
gracefully, and launched again on the same port and database. Its stdout and stderr go to one
log file kept across launches, each launch adding a header line. On Linux the child is killed
when its parent dies, so a crashed test run or benchmark leaves no server behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiohttp

STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
_PROBE_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 1.0

_LIBC: ctypes.CDLL | None
try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not Linux: no parent-death signal, callers still stop their servers
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if the parent dies without stopping it.

    Linux sends the signal when the *thread* that forked the child ends, so launch servers from
    a thread that lives as long as they should (the main thread or the event loop's).
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerNotReady(RuntimeError):
    """The server exited while starting, or /health did not answer 200 before the deadline."""


class ServerProcess:
    """One `conductor server` subprocess bound to a fixed port and database.

    `env` adjusts the server's environment (this process's, plus unbuffered output): a value
    sets the variable, None removes it.
    """

    def __init__(
        self,
        name: str,
        port: int,
        database_url: str,
        log_path: Path,
        env: Mapping[str, str | None] | None = None,
        args: Sequence[str] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        # More `conductor server` options; given last, they override the defaults above.
        self.args = list(args)
        # A client context trusting the server's certificate, when it serves HTTPS.
        self.tls = tls
        self.port = port
        self.database_url = database_url
        self.log_path = log_path
        self.env = dict(env or {})
        self.launches = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._exit_accounted = False

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

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
        self._exit_accounted = False
        command = [sys.executable, "-m", "conductor", "server", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--database-url", self.database_url, *self.args]
        with self.log_path.open("ab") as log:
            log.write(f"=== launch {self.launches}: port {self.port} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                preexec_fn=_die_with_parent,
            )

    def _environment(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for key, value in self.env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def start(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.launch()
        self.wait_ready(timeout)

    async def start_async(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self.launch()
        await self.wait_ready_async(timeout)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Block until GET /health answers 200; raise ServerNotReady if it never does."""
        deadline = time.monotonic() + timeout
        while not self._probe():
            self._check_deadline(deadline, timeout)
            time.sleep(_PROBE_INTERVAL_S)

    async def wait_ready_async(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Like wait_ready, without blocking the event loop (clients keep running meanwhile)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while not await self._probe_async(session):
                self._check_deadline(deadline, timeout)
                await asyncio.sleep(_PROBE_INTERVAL_S)

    def _check_deadline(self, deadline: float, timeout: float) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._exit_accounted = True
            raise ServerNotReady(
                f"server {self.name} exited with {self._proc.returncode} during startup\n"
                f"{self.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise ServerNotReady(
                f"server {self.name} not healthy within {timeout} s\n{self.log_tail()}"
            )

    def _probe(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"{self.url}/health", timeout=_PROBE_TIMEOUT_S, context=self.tls
            ) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    async def _probe_async(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(
                f"{self.url}/health",
                timeout=aiohttp.ClientTimeout(total=_PROBE_TIMEOUT_S),
                ssl=self.tls if self.tls is not None else True,
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
        self._log_line(f"=== SIGKILL by the harness (pid {self._proc.pid}) ===")

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Ask the process to exit (SIGTERM), SIGKILL it after `grace_s`; return its exit code.

        None means it was not running when asked.
        """
        if self._proc is None or self._proc.poll() is not None:
            return None
        self._exit_accounted = True
        self._proc.terminate()
        try:
            return self._proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            self._log_line(f"=== did not stop within {grace_s} s of SIGTERM: killed ===")
            return self._proc.returncode

    def exited_by_itself(self) -> bool:
        """True if the process exited although nothing here killed or stopped it."""
        if self._proc is None or self._exit_accounted:
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
