"""The registry of long-polls waiting for hand-offs: a poll is taken by at most one transaction,
answered after its commit, released if it rolls back, and never answers empty while held."""

from __future__ import annotations

import asyncio

import pytest

from conductor.hand_off import HandOffs
from conductor.store.values import StoredTask


class _Fail(Exception):
    pass


def _registry() -> tuple[HandOffs, list[str]]:
    woken: list[str] = []
    return HandOffs(woken.append), woken


def _task() -> StoredTask:
    return object.__new__(StoredTask)  # an opaque stand-in: the registry never looks inside


async def test_an_untaken_poll_withdraws_and_is_not_offered_again() -> None:
    hand_offs, _ = _registry()
    poll = hand_offs.offer("work", "work", "w1", 5)
    assert hand_offs.first_waiting("work") is poll

    assert await hand_offs.settle(poll) == []
    assert hand_offs.first_waiting("work") is None
    async with hand_offs.round() as handing:
        assert handing.take("work") is None


async def test_polls_are_taken_oldest_first_and_once() -> None:
    hand_offs, _ = _registry()
    first = hand_offs.offer("work", "work", "w1", 1)
    second = hand_offs.offer("work", "work", "w2", 1)
    async with hand_offs.round() as one, hand_offs.round() as other:
        assert one.take("work") is first
        assert other.take("work") is second
        assert one.take("work") is None


async def test_a_committed_round_delivers_and_wakes_the_queue() -> None:
    hand_offs, woken = _registry()
    poll = hand_offs.offer("dom:work", "work", "w1", 5)
    task = _task()
    async with hand_offs.round() as handing:
        taken = handing.take("dom:work")
        assert taken is poll
        handing.claimed[taken] = [task]
    assert woken == ["dom:work"]
    assert await hand_offs.settle(poll) == [task]


async def test_a_failed_round_releases_its_polls_empty() -> None:
    hand_offs, woken = _registry()
    poll = hand_offs.offer("work", "work", "w1", 5)

    async def rolled_back() -> None:
        async with hand_offs.round() as handing:
            taken = handing.take("work")
            assert taken is not None
            handing.claimed[taken] = [_task()]  # claimed, then the transaction rolled back
            raise _Fail

    with pytest.raises(_Fail):
        await rolled_back()
    assert woken == ["work"]
    assert await hand_offs.settle(poll) == []


async def test_a_held_poll_waits_for_its_transaction_instead_of_answering_empty() -> None:
    hand_offs, _ = _registry()
    poll = hand_offs.offer("work", "work", "w1", 5)
    task = _task()
    committing = asyncio.Event()
    commit = asyncio.Event()

    async def transaction() -> None:
        async with hand_offs.round() as handing:
            taken = handing.take("work")
            assert taken is not None
            handing.claimed[taken] = [task]
            committing.set()
            await commit.wait()

    running = asyncio.create_task(transaction())
    await committing.wait()
    # The poll's wait ran out while the transaction held it: settling waits for the commit
    # (an offer nobody held would settle empty at once).
    settling = asyncio.create_task(hand_offs.settle(poll))
    commit.set()
    await running
    assert await settling == [task]


async def test_a_poll_whose_client_hung_up_is_passed_over_and_settles_empty() -> None:
    hand_offs, _ = _registry()
    hung_up = {"gone": False}
    abandoned = hand_offs.offer("work", "work", "w1", 5, gone=lambda: hung_up["gone"])
    present = hand_offs.offer("work", "work", "w2", 5)
    hung_up["gone"] = True  # the client closes its connection while the poll waits

    assert hand_offs.first_waiting("work") is present
    async with hand_offs.round() as handing:
        assert handing.take("work") is present
        handing.claimed[present] = [_task()]
    assert await hand_offs.settle(abandoned) == []
    assert len(await hand_offs.settle(present)) == 1
