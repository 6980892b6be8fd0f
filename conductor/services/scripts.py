"""The JavaScript sandbox for INLINE tasks, SWITCH `javascript` cases and DECISION `caseExpression`.

Each evaluation gets a fresh V8 isolate (mini-racer): nothing leaks from one workflow's script to
another's, and V8 offers no file, network, process or environment access to begin with. Every
evaluation has a time limit and a memory limit enforced by V8 itself, and runs in a worker thread
(the native call releases the GIL), so a runaway script fails its task and never stalls the
server's event loop. A semaphore bounds how many isolates exist at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

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


class ScriptError(Exception):
    """The script failed: a syntax or runtime error, or a broken limit."""


class ScriptSandbox:
    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_memory: int = DEFAULT_MAX_MEMORY,
        concurrency: int = 2,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_memory = max_memory
        self._slots = asyncio.Semaphore(concurrency)
        self.running = 0  # evaluations in progress (observability and tests)

    async def evaluate(self, script: str, bindings: dict[str, Any]) -> Any:
        """The value of the script's last expression statement, with `$` bound to `bindings`."""
        async with self._slots:
            self.running += 1
            try:
                return await asyncio.to_thread(self._evaluate, script, bindings)
            finally:
                self.running -= 1

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
        return orjson.loads(text)

    def check_syntax(self, script: str) -> str | None:
        """A syntax error message, or None when the script parses (it is not run)."""
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
