"""The server's HTTP API as the benches use it: starting many workflows, reading /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aiohttp


async def start_workflows(
    session: aiohttp.ClientSession,
    api: str,
    name: str,
    count: int,
    concurrency: int,
    inputs: Callable[[int], dict[str, Any]],
    latencies_ms: list[float] | None = None,
) -> tuple[list[str], float]:
    """Start `count` workflows with `concurrency` requests in flight; (ids, seconds taken).

    The i-th start gets `inputs(i)` as its input; each request's time goes to `latencies_ms`.
    """
    ids: list[str] = []
    next_index = 0

    async def starter() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            began = time.perf_counter()
            async with session.post(f"{api}/workflow/{name}", json=inputs(index)) as resp:
                body = await resp.text()
                if resp.status != 200:
                    raise RuntimeError(f"start failed: {resp.status} {body[:300]}")
                ids.append(body.strip())
            if latencies_ms is not None:
                latencies_ms.append(1000 * (time.perf_counter() - began))

    started = time.perf_counter()
    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return ids, time.perf_counter() - started


async def scrape(session: aiohttp.ClientSession, base_url: str) -> dict[str, float]:
    """The server's Prometheus samples, keyed by name plus labels."""
    async with session.get(f"{base_url}/metrics") as resp:
        text = await resp.text()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                samples[key] = float(value)
    return samples
