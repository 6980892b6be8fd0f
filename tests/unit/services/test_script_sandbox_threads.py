"""Many scripts at once, from several sandboxes, some timing out, with syntax checks between.

mini-racer crashes the process (SIGSEGV, or a V8 check failure) when isolates are made, timed out
or closed on two threads at once; the sandbox runs all V8 work on one thread. Were it to stop
doing so, this test would take the whole test run down with it.
"""

from __future__ import annotations

import asyncio

import pytest

from conductor.services.scripts import ScriptError, ScriptSandbox

ROUNDS = 300


async def test_concurrent_evaluations_timeouts_and_checks_do_not_crash() -> None:
    quick, strict = ScriptSandbox(), ScriptSandbox(timeout_s=0.02)

    async def one(i: int) -> object:
        if i % 25 == 0:
            with pytest.raises(ScriptError, match="timed out"):
                await strict.evaluate("while (true) {}", {})
            return "timed out"
        if i % 7 == 0:
            return await quick.check_syntax("function (")
        return await quick.evaluate("$.n * 2", {"n": i})

    results = await asyncio.gather(*(one(i) for i in range(ROUNDS)))

    assert results[1] == 2 and results[ROUNDS - 1] == 2 * (ROUNDS - 1)
    assert results.count("timed out") == len(range(0, ROUNDS, 25))
    assert all(isinstance(results[i], str) for i in range(7, ROUNDS, 7) if i % 25)
    assert quick.running == 0 and strict.running == 0
