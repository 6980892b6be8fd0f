"""The JavaScript sandbox for INLINE tasks, SWITCH `javascript` cases and DECISION `caseExpression`.

Each evaluation gets a fresh V8 isolate (mini-racer): nothing leaks from one workflow's script to
another's, and V8 offers no file, network, process or environment access to begin with. Every
evaluation has a time limit and a memory limit enforced by V8 itself, and runs off the event loop
(the native call releases the GIL), so a runaway script fails its task and never stalls the
server.

All V8 work of the process (every sandbox's evaluations and syntax checks) runs on one thread,
one isolate at a time: mini-racer (0.12 to 0.14) crashes the whole process when isolates are
created, timed out or closed on two threads at once. Scripts therefore queue behind each other;
a runaway one delays the next by at most the time limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson
from py_mini_racer import (
    JSEvalException,
    JSOOMException,
    JSParseException,
    JSTimeoutException,
    MiniRacer,
)

DEFAULT_TIMEOUT_S = 4.0  # Conductor's CONDUCTOR_SCRIPT_MAX_EXECUTION_SECONDS default
DEFAULT_MAX_MEMORY = 64 * 1024 * 1024

_V8_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="v8")
_T = TypeVar("_T")


async def _on_v8_thread(work: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_V8_THREAD, work)


class ScriptError(Exception):
    """The script failed: a syntax or runtime error, or a broken limit."""


class ScriptSandbox:
    def __init__(
        self, timeout_s: float = DEFAULT_TIMEOUT_S, max_memory: int = DEFAULT_MAX_MEMORY
    ) -> None:
        self.timeout_s = timeout_s
        self.max_memory = max_memory
        self.running = 0  # evaluations asked for and not yet answered (observability and tests)

    async def evaluate(self, script: str, bindings: dict[str, Any]) -> Any:
        """The value of the script's last expression statement, with `$` bound to `bindings`."""
        self.running += 1
        try:
            return await _on_v8_thread(lambda: self._evaluate(script, bindings))
        finally:
            self.running -= 1

    async def check_syntax(self, script: str) -> str | None:
        """A syntax error message, or None when the script parses (it is not run)."""
        return await _on_v8_thread(lambda: self._check_syntax(script))

    def _evaluate(self, script: str, bindings: dict[str, Any]) -> Any:
        # `eval` of the script text yields its completion value, as Conductor's evaluator does;
        # JSON.stringify hands back a plain JSON value (and 2.0 comes back as 2, as in Conductor).
        program = (
            f"var $ = {orjson.dumps(bindings).decode()};\n"
            f"JSON.stringify(eval({orjson.dumps(script).decode()}))"
        )
        with MiniRacer() as ctx:
            try:
                text = ctx.eval(program, timeout_sec=self.timeout_s, max_memory=self.max_memory)
            except JSTimeoutException as exc:
                raise ScriptError(
                    f"Script timed out: it ran longer than {self.timeout_s:g} seconds"
                ) from exc
            except JSOOMException as exc:
                raise ScriptError(
                    f"Script ran out of memory: it used more than {self.max_memory // 2**20} MiB"
                ) from exc
            except JSEvalException as exc:
                raise ScriptError(f"Error evaluating the script: {_first_line(exc)}") from exc
        if not isinstance(text, str):  # the value was `undefined` (or a function)
            return None
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:  # nested past the decoder's 1024 levels
            raise ScriptError(f"The script's result cannot be used: {exc}") from exc

    def _check_syntax(self, script: str) -> str | None:
        program = f"new Function({orjson.dumps(script).decode()}); true"
        with MiniRacer() as ctx:
            try:
                ctx.eval(program, timeout_sec=self.timeout_s, max_memory=self.max_memory)
            except (JSParseException, JSEvalException) as exc:
                return _first_line(exc)
            except (JSTimeoutException, JSOOMException):
                return "the script could not be parsed within the sandbox's limits"
        return None


def _first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    error = next((line for line in lines if "Error" in line), lines[0] if lines else str(exc))
    return error.replace("<anonymous>:", "line ").strip()
