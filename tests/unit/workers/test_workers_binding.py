"""How `@worker_task` binds a task's inputData to function parameters, and worker checks."""

from __future__ import annotations

from typing import Any

import pytest

from workers import ConductorClient, FunctionWorker, Task, TaskRunner, Worker, worker_task


def make_task(input_data: dict[str, Any]) -> Task:
    return Task.from_json(
        {"taskId": "t1", "workflowInstanceId": "w1", "taskType": "job", "inputData": input_data}
    )


async def test_binds_only_declared_inputs_and_keeps_defaults():
    @worker_task("job")
    async def job(a: int, b: int = 2) -> dict[str, Any]:
        return {"a": a, "b": b}

    assert await job.execute(make_task({"a": 1, "c": 3})) == {"a": 1, "b": 2}
    assert await job.execute(make_task({"a": 1, "b": 5})) == {"a": 1, "b": 5}


async def test_missing_required_input_is_none():
    @worker_task("job")
    async def job(name: str | None) -> dict[str, Any]:
        return {"name": name}

    assert await job.execute(make_task({})) == {"name": None}


async def test_var_keyword_receives_every_input():
    @worker_task("job")
    async def job(a: int, **rest: Any) -> dict[str, Any]:
        return {"a": a, "rest": rest}

    out = await job.execute(make_task({"a": 1, "b": 2, "not an identifier": 3}))
    assert out == {"a": 1, "rest": {"b": 2, "not an identifier": 3}}


async def test_single_task_parameter_receives_the_task():
    @worker_task("job")
    async def job(t: Task) -> dict[str, Any]:
        return {"id": t.task_id, "input": dict(t.input_data)}

    assert await job.execute(make_task({"x": 1})) == {"id": "t1", "input": {"x": 1}}


async def test_unannotated_parameter_named_task_is_an_input():
    @worker_task("job")
    async def job(task):
        return {"task": task}

    assert await job.execute(make_task({"task": "from input"})) == {"task": "from input"}


async def test_sync_function_and_direct_call():
    @worker_task("job", concurrency=4, domain="d", poll_timeout_ms=250)
    def job(n: int) -> dict[str, int]:
        return {"n": n + 1}

    assert isinstance(job, FunctionWorker)
    assert (job.task_type, job.concurrency, job.domain, job.poll_timeout_ms) == ("job", 4, "d", 250)
    assert job(1) == {"n": 2}  # still callable as the plain function
    assert await job.execute(make_task({"n": 41})) == {"n": 42}


def test_positional_only_parameter_is_rejected():
    def job(a: int, /) -> None:
        return None

    with pytest.raises(TypeError, match="positional-only"):
        worker_task("job")(job)


@pytest.mark.parametrize(
    "settings",
    [{"concurrency": 0}, {"poll_timeout_ms": 5001}, {"poll_timeout_ms": -1}],
)
def test_invalid_settings_are_rejected(settings: dict[str, Any]):
    with pytest.raises(ValueError, match="job"):
        worker_task("job", **settings)(lambda: None)


def test_runner_rejects_duplicate_and_untyped_workers():
    client = ConductorClient("http://localhost:1/api")
    first = worker_task("job")(lambda: None)
    second = worker_task("job")(lambda: None)
    with pytest.raises(ValueError, match="two workers"):
        TaskRunner(client, [first, second])

    class NoType(Worker):
        async def execute(self, task: Task) -> None:
            return None

    with pytest.raises(ValueError, match="no task_type"):
        TaskRunner(client, [NoType()])
