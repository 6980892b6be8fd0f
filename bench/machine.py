"""Facts about the machine and the PostgreSQL server a benchmark ran on, for its report."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg


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
    python_loop_mips: float

    def summary(self) -> str:
        """CPUs, kernel, Python and PostgreSQL version, as every report's Machine line has them."""
        return (
            f"{self.nproc} CPUs ({self.cpu_model}), Linux {self.kernel}, Python {self.python}, "
            f"{self.postgres}; pure-Python loop {self.python_loop_mips:.0f} M iterations/s"
        )


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
        python_loop_mips=python_loop_speed(),
        **settings,
    )


def python_loop_speed(iterations: int = 2_000_000) -> float:
    """Millions of interpreter loop iterations per second, best of three.

    The raw commit limit says how fast PostgreSQL can be; this says how fast the server's own
    code can be. Shared machines of one kind have differed threefold in it from day to day,
    so a report without it cannot be compared with another.
    """
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for i in range(iterations):
            total += i
        best = min(best, time.perf_counter() - began)
    return iterations / best / 1e6


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
