"""CPU accounting from /proc: what the server, the benchmark and PostgreSQL each spent.

`CpuMeter` sums, per party, the seconds its threads ran and the seconds they were runnable but
had no CPU (/proc/<pid>/task/*/schedstat), plus the machine's idle and steal time (/proc/stat),
between `start()` and `stop()`. PostgreSQL is its postmaster and all the postmaster's children;
the server is its process and every process under it (with `--processes N`, the supervisor and
its N servers).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import asyncpg

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


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                found[int(entry.name)] = _ppid(int(entry.name))
    return found


def _children(parent: int) -> list[int]:
    return [pid for pid, ppid in _parents().items() if ppid == parent]


def _descendants(root: int) -> list[int]:
    parents = _parents()
    found: list[int] = []
    level = [root]
    while level:
        level = [pid for pid, ppid in parents.items() if ppid in level]
        found += level
    return found


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
            server = _threads(self._server_pid)
            for pid in _descendants(self._server_pid):
                server.update(_threads(pid))
            groups["server"] = server
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


def other_load(cpu: dict[str, float], cores: int) -> float:
    """Cores used by processes outside the benchmark (busy = everything that was not idle)."""
    ours = sum(v for k, v in cpu.items() if k.endswith("_cpu"))
    return (cores * cpu["wall"] - cpu["machine_idle"] - ours) / cpu["wall"]
