"""A runaway jq query holds up only its own process: other queries run meanwhile, and its process
is replaced after the time limit."""

from __future__ import annotations

import asyncio

import pytest

from conductor.services.jq_runner import JqError, JqRunner

pytestmark = pytest.mark.integration


async def test_a_runaway_query_does_not_block_the_others() -> None:
    runner = JqRunner(timeout_s=5.0, processes=2)
    try:
        runaway = asyncio.create_task(runner.transform("repeat(.)", 1))
        quick = await runner.transform(".a + 1", {"a": 41})
        assert quick == [42]
        assert not runaway.done()  # still inside its time limit, in its own process
        with pytest.raises(JqError, match="timed out"):
            await runaway
        # Its process was killed and is replaced on the next use.
        results = await asyncio.gather(*(runner.transform(". * 2", n) for n in range(4)))
        assert results == [[0], [2], [4], [6]]
    finally:
        runner.close()
