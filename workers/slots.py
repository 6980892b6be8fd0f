"""Counting execution slots of one worker, so a poll never claims more than it can run."""

from __future__ import annotations

import asyncio


class Slots:
    """A counter of free slots with a wait for "at least one is free".

    Unlike asyncio.Semaphore it exposes the free count and takes several slots at
    once, which is what a batch poll needs: ask for exactly as many tasks as fit.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._in_use = 0
        self._freed = asyncio.Event()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def free(self) -> int:
        return self._capacity - self._in_use

    async def wait_free(self) -> None:
        """Return once at least one slot is free."""
        while self.free == 0:
            self._freed.clear()
            await self._freed.wait()

    def take(self, count: int) -> None:
        """Reserve `count` slots; the caller checked they are free."""
        if not 0 <= count <= self.free:
            raise ValueError(f"cannot take {count} slots, {self.free} free")
        self._in_use += count

    def release(self, count: int = 1) -> None:
        """Give back `count` slots."""
        if not 0 <= count <= self._in_use:
            raise ValueError(f"cannot release {count} slots, {self._in_use} in use")
        self._in_use -= count
        if count:
            self._freed.set()
