"""The unfinished task an external update names (by id, by reference, or the first WAIT)."""

from __future__ import annotations

from conductor.engine.model import TaskStatus
from tests.unit.engine.helpers import Run, simple


def wait(ref: str) -> dict:
    return {"name": ref, "taskReferenceName": ref, "type": "WAIT"}


def test_the_pending_task_by_id_by_reference_or_the_first_wait() -> None:
    run = Run([simple("a"), wait("hold")])
    run.start()
    [a] = run.pending()
    state = run.state
    assert state.pending_task(task_id=a.task_id) is a
    assert state.pending_task(ref="a") is a
    assert state.pending_task() is None  # no WAIT yet
    run.claim(a)
    run.result(a, TaskStatus.COMPLETED)
    [hold] = run.pending()
    assert state.pending_task(task_id=a.task_id) is None  # finished
    assert state.pending_task() is hold
    # A loop iteration's reference matches with or without its suffix.
    hold.ref_name = "hold__2"
    assert state.pending_task(ref="hold") is hold
    assert state.pending_task(ref="hold__2") is hold
    assert state.pending_task(ref="hold__1") is None
    # A message published before the task was scheduled (handled again after a crash, say)
    # does not reach it.
    assert state.pending_task(ref="hold", scheduled_by=hold.scheduled_time - 1) is None
    assert state.pending_task(ref="hold", scheduled_by=hold.scheduled_time) is hold
