"""`conductor server --processes N`: N server processes on one port, and their supervisor.

One server process is one event loop, so one core. With N > 1 the `conductor server` process
serves nothing itself. It starts the embedded PostgreSQL when no database URL is set (only one
process may own it), applies the migrations once, and starts N `python -m conductor server
--processes 1` processes with the database URL and a share of the connection pool. Each binds
the same host and port with SO_REUSEPORT, and the kernel spreads new connections over them.
They need nothing else from each other: they are the stateless servers of docs/scaling.md on
one database, waking each other through LISTEN/NOTIFY.

The supervisor passes SIGTERM and SIGINT on (as SIGTERM), waits for its processes, and stops
the embedded PostgreSQL last. A process that dies is started again after a back-off. One that
refuses to start (exit status 2, its reason on stderr), or that keeps exiting within seconds
of starting, stops them all and the supervisor exits with status 2. On Linux the processes
stop by themselves if the supervisor dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import math
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence

import asyncpg

from conductor.config import Settings, SettingsError
from conductor.errors import StartupRefused
from conductor.store import tasks as task_store
from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate

log = logging.getLogger(__name__)

# What a server process exits with when it refuses to start (cli.py): trying again is useless.
REFUSED_STATUS = 2
# The smallest main pool a process gets, whatever the share.
MIN_POOL_SIZE = 2
# Connections of a process outside its pools: the wake-up listener and sender.
WAKEUP_CONNECTIONS = 2
# A process's own shutdown drains requests for up to 5 s (cli.py); this leaves the embedded
# PostgreSQL time to stop within the 10 s that docker stop and systemd give.
STOP_GRACE_S = 7.0
_PR_SET_PDEATHSIG = 1


def check(settings: Settings) -> None:
    """Refuse a number of processes this platform or these settings cannot run."""
    if settings.processes < 1:
        raise SettingsError(
            f"--processes (CONDUCTOR_PROCESSES) must be 1 or more, not {settings.processes}"
        )
    if settings.processes == 1:
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        raise StartupRefused(
            "--processes above 1 needs SO_REUSEPORT (Linux, BSD), which this platform lacks:"
            " run one process per port behind a load balancer instead"
        )
    if settings.virtual_clock:
        raise StartupRefused(
            "--virtual-clock keeps its clock inside one process: use it with --processes 1"
        )


def pool_share(pool_size: int, processes: int) -> int:
    """Each process's main pool: the configured size is the host's, shared out."""
    return max(MIN_POOL_SIZE, math.ceil(pool_size / processes))


def connections_needed(settings: Settings) -> int:
    """The most connections the processes of `settings` open at once."""
    each = pool_share(settings.pool_size, settings.processes)
    return settings.processes * (each + settings.timer_pool_size + WAKEUP_CONNECTIONS)


def stop_with_supervisor(supervisor_pid: int) -> None:
    """In a process the supervisor started: get SIGTERM when the supervisor dies (Linux), and
    refuse to start if it is already gone."""
    if sys.platform == "linux":
        # The C library the interpreter runs on, glibc or musl.
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor_pid:
        raise StartupRefused(f"the supervising process {supervisor_pid} is gone")


def serve(settings: Settings, argv: Sequence[str]) -> int:
    """Run `settings.processes` servers until SIGTERM or SIGINT; returns the exit status.

    `argv` is the supervisor's own command line (after the program name), which each process
    gets again with `--processes 1` added."""
    return asyncio.run(_supervise(settings, argv))


async def _supervise(settings: Settings, argv: Sequence[str]) -> int:
    stopping = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if not stopping.is_set():
            log.info("%s: stopping the server processes", signum.name)
        stopping.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    try:
        await _prepare_database(dsn, connections_needed(settings))
        command = [sys.executable, "-m", "conductor", *argv, "--processes", "1"]
        command += ["--supervisor-pid", str(os.getpid())]
        if embedded is not None:
            command.append("--supervisor-embedded")
        env = {
            **os.environ,
            "CONDUCTOR_DATABASE_URL": dsn,
            "CONDUCTOR_DB_POOL_SIZE": str(pool_share(settings.pool_size, settings.processes)),
        }
        log.info(
            "serving %s:%d with %d processes", settings.host, settings.port, settings.processes
        )
        await ServerProcesses(command, env, settings.processes, stopping).run()
        log.info("the server processes stopped")
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    return 0


async def _prepare_database(dsn: str, connections: int) -> None:
    """Migrate once for all processes; warn when they could open more connections than the
    database allows."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        limit = await task_store.connection_limit(conn)
    finally:
        await conn.close()
    if connections > limit:
        log.warning(
            "the server processes may open up to %d connections and the database allows %d:"
            " lower CONDUCTOR_DB_POOL_SIZE or --processes, or raise max_connections",
            connections,
            limit,
        )


class ServerProcesses:
    """Keeps `count` copies of a command running until `stopping` is set.

    A copy that exits is started again after a back-off that doubles while copies keep exiting
    within `startup_window_s` of starting; `max_failed_starts` such exits in a row, or one exit
    with status 2 (a refusal), stop every copy and end `run()` with StartupRefused.
    """

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        count: int,
        stopping: asyncio.Event,
        *,
        startup_window_s: float = 10.0,
        max_failed_starts: int = 5,
        first_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        stop_grace_s: float = STOP_GRACE_S,
    ) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.count = count
        self.stopping = stopping
        self.startup_window_s = startup_window_s
        self.max_failed_starts = max_failed_starts
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stop_grace_s = stop_grace_s
        self._running: dict[int, asyncio.subprocess.Process] = {}
        self._failure: str | None = None

    @property
    def pids(self) -> list[int]:
        """The processes running now."""
        return [p.pid for p in self._running.values() if p.returncode is None]

    async def run(self) -> None:
        """Until `stopping` is set, then until every copy has stopped; raises StartupRefused
        when the copies could not be kept running."""
        await asyncio.gather(*(self._keep(slot) for slot in range(self.count)))
        if self._failure is not None:
            raise StartupRefused(self._failure)

    def _give_up(self, reason: str) -> None:
        if self._failure is None:
            self._failure = reason
            log.error("%s; stopping the other server processes", reason)
        self.stopping.set()

    async def _keep(self, slot: int) -> None:
        loop = asyncio.get_running_loop()
        backoff_s = self.first_backoff_s
        failed_starts = 0
        while not self.stopping.is_set():
            started = loop.time()
            process = await asyncio.create_subprocess_exec(
                *self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                # Its own process group: a terminal's Ctrl-C reaches the supervisor only, which
                # passes it on once.
                process_group=0,
            )
            self._running[slot] = process
            log.info("server process %d of %d started (pid %d)", slot + 1, self.count, process.pid)
            if await self._stopped_before_exit(process):
                await self._terminate(process)
                return
            if self.stopping.is_set():
                return
            lived_s = loop.time() - started
            status = _describe(process.returncode)
            if process.returncode == REFUSED_STATUS:
                self._give_up(f"server process {process.pid} refused to start (reason above)")
                return
            if lived_s >= self.startup_window_s:
                failed_starts, backoff_s = 0, self.first_backoff_s
            else:
                failed_starts += 1
            if failed_starts >= self.max_failed_starts:
                self._give_up(
                    f"server processes exited within {self.startup_window_s:.0f} s of starting"
                    f" {failed_starts} times in a row (last: {status})"
                )
                return
            log.warning(
                "server process %d (pid %d) %s; starting another in %.1f s",
                slot + 1,
                process.pid,
                status,
                backoff_s,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), backoff_s)
            backoff_s = min(backoff_s * 2, self.max_backoff_s)

    async def _stopped_before_exit(self, process: asyncio.subprocess.Process) -> bool:
        """Wait for the process to exit or `stopping`; True if `stopping` came first."""
        exited = asyncio.create_task(process.wait())
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait((exited, stop), return_when=asyncio.FIRST_COMPLETED)
        for waiter in (exited, stop):
            waiter.cancel()
        return process.returncode is None

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.stop_grace_s)
        except TimeoutError:
            log.warning(
                "server process %d did not stop within %.0f s; killing it",
                process.pid,
                self.stop_grace_s,
            )
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def _describe(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
        return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"
