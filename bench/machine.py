"""Facts about the machine and the PostgreSQL server a benchmark ran on, for its report."""

from __future__ import annotations

import contextlib
import os
import platform
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

    def summary(self) -> str:
        """CPUs, kernel, Python and PostgreSQL version, as every report's Machine line has them."""
        return (
            f"{self.nproc} CPUs ({self.cpu_model}), Linux {self.kernel}, Python {self.python}, "
            f"{self.postgres}"
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
        **settings,
    )


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
