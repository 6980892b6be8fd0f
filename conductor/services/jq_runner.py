"""JSON_JQ_TRANSFORM evaluation in a separate process, with a time limit.

jq programs can loop forever (`repeat(.)`) and the jq library runs them in native code holding the
GIL, so they cannot run in the server's process. A one-process pool runs them; a program that
breaks the time limit gets its process killed and the pool replaced. This module's top level
imports nothing heavy: the pool's child process imports it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson

DEFAULT_TIMEOUT_S = 4.0
_PARENTHESISED = re.compile(r'\(("(?:[^"\\]|\\.)*")\)')


class JqError(Exception):
    """The query failed to compile or run, or broke the time limit."""


def _run(query: str, data: bytes) -> list[Any]:
    import jq  # in the child process only

    try:
        return list(jq.compile(query).input_value(orjson.loads(data)).all())
    except ValueError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "jq failed"
        # libjq writes `with string ("x")`; Conductor's jq (jackson-jq) says `with string "x"`.
        raise JqError(_PARENTHESISED.sub(r"\1", message)) from None


def check_syntax(query: str) -> str | None:
    """A compile error message, or None when the query compiles (it is not run)."""
    import jq

    try:
        jq.compile(query)
    except ValueError as exc:
        return " ".join(line.strip() for line in str(exc).splitlines()[:1])
    return None


class JqRunner:
    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs threads and an event loop is unsafe.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def transform(self, query: str, data: Any) -> list[Any]:
        """Every value the query emits for `data`."""
        async with self._lock:  # one program at a time: the pool has one process
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor(), _run, query, orjson.dumps(data))
            try:
                return await asyncio.wait_for(future, self.timeout_s)
            except TimeoutError:
                self._kill()
                raise JqError(
                    f"jq query timed out: it ran longer than {self.timeout_s:g} seconds"
                ) from None

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
