"""TaskRunner against the in-test fake server: results, failures, limits, retries, shutdown.

The `fake`, `client` and `start_runner` fixtures come from this directory's conftest.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from workers import (
    Backoff,
    ConductorClient,
    InProgress,
    NonRetryableError,
    Task,
    TaskResult,
    TaskResultStatus,
    TaskRunner,
    Worker,
    worker_task,
)
from workers.reporter import ResultReporter


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `predicate` until it holds; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.002)


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def test_dict_return_completes_with_output(fake, start_runner):
    @worker_task("greet")
    async def greet(name: str) -> dict[str, str]:
        return {"greetings": f"Hello {name}"}

    task_id = await fake.enqueue("greet", {"name": "World", "unused": 1})
    start_runner([greet])
    await wait_until(lambda: task_id in fake.results)

    assert fake.results[task_id] == {
        "workflowInstanceId": f"wf-{task_id[:8]}",
        "taskId": task_id,
        "status": "COMPLETED",
        "outputData": {"greetings": "Hello World"},
        "workerId": "test-worker",
    }
    assert fake.polls[0].query == {"workerid": "test-worker", "count": "1", "timeout": "1000"}


def _custom_result(task: Task) -> TaskResult:
    return TaskResult.for_task(
        task, TaskResultStatus.FAILED, {"why": "custom"}, reason_for_incompletion="made by hand"
    )


@pytest.mark.parametrize(
    ("make_outcome", "expected"),
    [
        pytest.param(
            lambda task: None, {"status": "COMPLETED", "outputData": {}}, id="none-is-empty-output"
        ),
        pytest.param(
            lambda task: InProgress(30, {"progress": 0.5}),
            {"status": "IN_PROGRESS", "outputData": {"progress": 0.5}, "callbackAfterSeconds": 30},
            id="in-progress",
        ),
        pytest.param(
            _custom_result,
            {
                "status": "FAILED",
                "outputData": {"why": "custom"},
                "reasonForIncompletion": "made by hand",
            },
            id="task-result-as-is",
        ),
    ],
)
async def test_return_values_map_to_results(
    fake,
    start_runner,
    make_outcome: Callable[[Task], Any],
    expected: dict[str, Any],
):
    @worker_task("job")
    async def job(task: Task) -> Any:
        return make_outcome(task)

    task_id = await fake.enqueue("job")
    start_runner([job])
    await wait_until(lambda: task_id in fake.results)

    body = fake.results[task_id]
    assert {key: body[key] for key in expected} == expected
    assert body["workerId"] == "test-worker"
    assert set(body) == {"workflowInstanceId", "taskId", "workerId", *expected}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValueError("bad input"), "FAILED"),
        (NonRetryableError("bad input"), "FAILED_WITH_TERMINAL_ERROR"),
    ],
)
async def test_exceptions_fail_the_task(fake, start_runner, error: Exception, status: str):
    @worker_task("job")
    async def job() -> None:
        raise error

    task_id = await fake.enqueue("job")
    start_runner([job])
    await wait_until(lambda: task_id in fake.results)

    body = fake.results[task_id]
    assert body["status"] == status
    assert body["reasonForIncompletion"] == "bad input"
    assert body["logs"][0]["taskId"] == task_id
    assert "Traceback" in body["logs"][0]["log"]


async def test_sync_function_runs_in_a_thread(fake, start_runner):
    threads: list[int] = []

    @worker_task("blocking")
    def blocking(n: int) -> dict[str, int]:
        threads.append(threading.get_ident())
        return {"double": n * 2}

    task_id = await fake.enqueue("blocking", {"n": 21})
    start_runner([blocking])
    await wait_until(lambda: task_id in fake.results)

    assert fake.results[task_id]["outputData"] == {"double": 42}
    assert threads
    assert threads[0] != threading.get_ident()


async def test_class_worker_and_domain(fake, start_runner):
    class Echo(Worker):
        task_type = "echo"
        domain = "blue"
        poll_timeout_ms = 200

        async def execute(self, task: Task) -> dict[str, Any]:
            return {"echo": task.input_data["text"], "type": task.task_type}

    task_id = await fake.enqueue("echo", {"text": "hi"})
    start_runner([Echo()])
    await wait_until(lambda: task_id in fake.results)

    assert fake.results[task_id]["outputData"] == {"echo": "hi", "type": "echo"}
    assert fake.polls[0].query["domain"] == "blue"
    assert fake.polls[0].query["timeout"] == "200"


async def test_poll_count_never_exceeds_free_slots(fake, start_runner):
    task_ids = [await fake.enqueue("slow") for _ in range(5)]
    gates = {task_id: asyncio.Event() for task_id in task_ids}
    running: set[str] = set()
    peak = 0

    @worker_task("slow", concurrency=3)
    async def slow(task: Task) -> None:
        nonlocal peak
        running.add(task.task_id)
        peak = max(peak, len(running))
        await gates[task.task_id].wait()
        running.discard(task.task_id)

    # v1 updates only, so every new task has to come through a poll.
    start_runner([slow], use_update_v2=False)
    await wait_until(lambda: len(running) == 3)
    assert [p.count for p in fake.polls] == [3]

    gates[task_ids[0]].set()
    await wait_until(lambda: len(fake.polls) >= 2 and len(running) == 3)
    assert fake.polls[1].count == 1
    assert fake.polls[1].returned == [task_ids[3]]

    for gate in gates.values():
        gate.set()
    await wait_until(lambda: len(fake.results) == 5)
    assert peak == 3
    for poll in fake.polls:
        assert poll.outstanding + poll.count <= 3, poll


async def test_update_is_retried_after_server_error(fake, start_runner):
    @worker_task("job")
    async def job() -> dict[str, bool]:
        return {"ok": True}

    fake.update_failures.append(500)
    task_id = await fake.enqueue("job")
    start_runner([job])
    await wait_until(lambda: task_id in fake.results)

    updates = fake.updates_for(task_id)
    assert [u.status for u in updates] == [500, 200]
    assert updates[0].body == updates[1].body


async def test_result_lost_after_last_attempt(
    fake, start_runner, fast_backoff: Backoff, caplog: pytest.LogCaptureFixture
):
    @worker_task("job")
    async def job() -> None:
        return None

    fake.update_failures.extend([503] * fast_backoff.max_attempts)
    task_id = await fake.enqueue("job")
    start_runner([job])
    await wait_until(lambda: _logged(caplog, "result lost"))

    assert [u.status for u in fake.updates_for(task_id)] == [503] * fast_backoff.max_attempts
    assert task_id not in fake.results


async def test_update_v2_chains_next_task_without_polling(fake, start_runner):
    task_ids = [await fake.enqueue("chain", {"i": i}) for i in range(3)]
    seen: list[int] = []

    @worker_task("chain")
    async def chain(i: int) -> dict[str, int]:
        seen.append(i)
        return {"i": i}

    start_runner([chain])
    await wait_until(lambda: len(fake.results) == 3)

    assert seen == [0, 1, 2]
    assert [p.returned for p in fake.polls if p.returned] == [[task_ids[0]]]
    assert {u.path for u in fake.updates} == {"/tasks/update-v2"}


async def test_falls_back_to_update_v1_on_404(fake, start_runner):
    fake.update_v2_supported = False
    task_ids = [await fake.enqueue("job") for _ in range(2)]

    @worker_task("job")
    async def job() -> None:
        return None

    start_runner([job])
    await wait_until(lambda: len(fake.results) == 2)

    assert [(u.path, u.body["taskId"], u.status) for u in fake.updates] == [
        ("/tasks/update-v2", task_ids[0], 404),
        ("/tasks", task_ids[0], 200),
        ("/tasks", task_ids[1], 200),
    ]


async def test_update_v2_stays_on_when_the_task_is_unknown(
    fake, client: ConductorClient, fast_backoff: Backoff
):
    reporter = ResultReporter(client, backoff=fast_backoff)
    result = TaskResult("wf-x", "no-such-task", TaskResultStatus.COMPLETED, worker_id="w")

    assert await reporter.report(result, want_next=True) is None

    # v1 answered 404 as well, so the 404 was about the task, not a missing route.
    assert [(u.path, u.status) for u in fake.updates] == [
        ("/tasks/update-v2", 404),
        ("/tasks", 404),
    ]
    assert reporter.uses_update_v2


async def test_graceful_stop_waits_for_in_flight_task(fake, start_runner):
    started = asyncio.Event()
    release = asyncio.Event()

    @worker_task("slow")
    async def slow() -> dict[str, str]:
        started.set()
        await release.wait()
        return {"done": "yes"}

    task_id = await fake.enqueue("slow")
    runner, run_task = start_runner([slow])
    await wait_until(started.is_set)

    stop_task = asyncio.create_task(runner.stop(grace_seconds=30))
    await wait_until(lambda: runner.stopping)
    assert not stop_task.done()
    assert task_id not in fake.results

    release.set()
    await stop_task
    assert run_task.done()
    await run_task
    assert fake.results[task_id]["status"] == "COMPLETED"
    # A stopping worker must not claim a next task, so the plain update is used.
    assert [u.path for u in fake.updates] == ["/tasks"]


async def test_stop_cancels_after_grace_period(
    fake, start_runner, caplog: pytest.LogCaptureFixture
):
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @worker_task("stuck")
    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task_id = await fake.enqueue("stuck")
    runner, run_task = start_runner([stuck])
    await wait_until(started.is_set)

    await runner.stop(grace_seconds=0.05)

    assert cancelled.is_set()
    assert run_task.done()
    await run_task  # a forced stop still ends run() normally
    assert task_id not in fake.results
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_cancelling_run_propagates(fake, client: ConductorClient):
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @worker_task("stuck")
    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await fake.enqueue("stuck")
    runner = TaskRunner(client, [stuck], worker_id="test-worker")
    run_task = asyncio.create_task(runner.run())
    await wait_until(started.is_set)

    run_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run_task
    assert cancelled.is_set()


async def test_poll_errors_back_off_and_recover(
    fake, start_runner, caplog: pytest.LogCaptureFixture
):
    @worker_task("job")
    async def job() -> None:
        return None

    fake.poll_failures.extend([500, 502])
    task_id = await fake.enqueue("job")
    start_runner([job])
    await wait_until(lambda: task_id in fake.results)

    assert [p.status for p in fake.polls[:3]] == [500, 502, 200]
    warnings = [r for r in caplog.records if "poll for job failed" in r.getMessage()]
    assert len(warnings) == 2
    assert all(r.exc_info is None for r in warnings)


async def test_stop_interrupts_backoff_when_server_is_down(caplog: pytest.LogCaptureFixture):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on `port` any more: every poll is refused.

    @worker_task("job")
    async def job() -> None:
        return None

    async with ConductorClient(f"http://127.0.0.1:{port}/api") as client:
        slow_backoff = Backoff(base=30.0, cap=30.0)
        runner = TaskRunner(client, [job], worker_id="w", poll_backoff=slow_backoff)
        run_task = asyncio.create_task(runner.run())
        await wait_until(lambda: _logged(caplog, "poll for job failed"))

        # The runner now sleeps 15-30 s before the next poll; stop must not wait for that.
        async with asyncio.timeout(2):
            await runner.stop(grace_seconds=10)
            await run_task
