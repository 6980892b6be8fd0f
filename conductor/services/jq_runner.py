"""JSON_JQ_TRANSFORM evaluation in a separate process, with a time limit and no view of the host.

jq programs can loop forever (`repeat(.)`) and the jq library runs them in native code holding the
GIL, so they cannot run in the server's process. A few processes run them, one query each at a
time; a program that breaks the time limit gets its process killed and replaced, and holds up
no other query meanwhile. This module's top level
imports nothing heavy: the pool's child process imports it.

A query sees nothing of the server: the child empties its environment before it runs anything
(jq's `env` and `$ENV` read the process environment), and queries with module directives are
refused before jq compiles them (compiling `import`/`include` reads files from disk).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson

DEFAULT_TIMEOUT_S = 4.0
MODULES_REFUSED = "module directives (import, include, module) are not allowed"
_PARENTHESISED = re.compile(r'\(("(?:[^"\\]|\\.)*")\)')
# jq accepts module directives only before a program's first definition or expression. Behind a
# definition of ours each becomes a syntax error naming its keyword: jq's own lexer decides what
# is a comment or a string, and a parse error stops jq before it looks for any module file.
_PROBE = "def __conductor_probe: .; "
_DIRECTIVE = re.compile(r"^jq: error: syntax error, unexpected (import|include|module)\b")


class JqError(Exception):
    """The query failed to compile or run, or broke the time limit."""


def _refusal(query: str) -> str | None:
    """MODULES_REFUSED when the query starts with a module directive; None otherwise."""
    import jq

    try:
        jq.compile(_PROBE + query)
    except ValueError as exc:
        if _DIRECTIVE.match(str(exc)):
            return MODULES_REFUSED
    return None


def _clean(message: str) -> str:
    # libjq writes `with string ("x")`; Conductor's jq (jackson-jq) says `with string "x"`.
    first = message.splitlines()[0] if message else "jq failed"
    return _PARENTHESISED.sub(r"\1", first)


@functools.lru_cache(maxsize=256)
def _program(query: str) -> Any:
    """The compiled query (workflows run the same queries again and again: compiling costs
    about 2 ms, running a small one 20 µs). Raises JqError."""
    import jq

    refusal = _refusal(query)
    if refusal is not None:
        raise JqError(refusal)
    try:
        return jq.compile(query)
    except ValueError as exc:
        raise JqError(_clean(str(exc))) from None


def _start_child() -> None:
    """The pool process's first act. os.environ.clear() unsets every variable in the C
    environment too, which is where libjq's `env` and `$ENV` look."""
    os.environ.clear()


def _run(query: str, data: bytes) -> list[Any]:
    program = _program(query)
    try:
        return list(program.input_value(orjson.loads(data)).all())
    except ValueError as exc:
        raise JqError(_clean(str(exc))) from None


def check_syntax(query: str) -> str | None:
    """A compile error message, or None when the query compiles (it is not run)."""
    import jq

    refusal = _refusal(query)  # first: compiling a module directive reads files
    if refusal is not None:
        return refusal
    try:
        jq.compile(query)
    except ValueError as exc:
        return " ".join(line.strip() for line in str(exc).splitlines()[:1])
    return None


class _Slot:
    """One jq process. A query that breaks the time limit gets its process killed; the next
    query on this slot starts a new one."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs threads and an event loop is unsafe.
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_child
            )
        return self._pool

    def kill(self) -> None:
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


class JqRunner:
    """A few jq processes, each running one query at a time: a runaway query holds up only its
    own process (for at most the time limit), not every other workflow's jq tasks."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, processes: int = 2) -> None:
        self.timeout_s = timeout_s
        self._slots = [_Slot() for _ in range(max(processes, 1))]
        self._idle: asyncio.Queue[_Slot] | None = None

    def _idle_slots(self) -> asyncio.Queue[_Slot]:
        if self._idle is None:  # made on the running loop, at first use
            self._idle = asyncio.Queue()
            for slot in self._slots:
                self._idle.put_nowait(slot)
        return self._idle

    async def transform(self, query: str, data: Any) -> list[Any]:
        """Every value the query emits for `data`."""
        idle = self._idle_slots()
        slot = await idle.get()
        try:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(slot.executor(), _run, query, orjson.dumps(data))
            try:
                return await asyncio.wait_for(future, self.timeout_s)
            except TimeoutError:
                slot.kill()
                raise JqError(
                    f"jq query timed out: it ran longer than {self.timeout_s:g} seconds"
                ) from None
        finally:
            idle.put_nowait(slot)

    def close(self) -> None:
        for slot in self._slots:
            slot.close()
