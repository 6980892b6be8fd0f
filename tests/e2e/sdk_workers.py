"""Workers for the conductor-python SDK test, written the way an SDK user writes them.

The SDK's TaskHandler starts each worker in a `spawn`ed process that unpickles the function by
module and name, so the functions must live in an importable module like this one. This module
deliberately has no `from __future__ import annotations`: the SDK inspects parameter annotations
at run time (`value: int` must be the class, not the string "int").
"""

from conductor.client.context.task_context import get_task_context
from conductor.client.worker.exception import NonRetryableException
from conductor.client.worker.worker_task import worker_task

PREPARE = "e2e_sdk_prepare"
FLAKY = "e2e_sdk_flaky"
FINISH = "e2e_sdk_finish"
FATAL = "e2e_sdk_fatal"


@worker_task(task_definition_name=PREPARE)
def prepare(value: int) -> dict[str, int]:
    return {"value": value + 1}


@worker_task(task_definition_name=FLAKY)
def flaky(value: int) -> dict[str, int]:
    """Fail the first attempt of every workflow, succeed on the retry."""
    attempt = get_task_context().get_retry_count()
    if not attempt:
        raise RuntimeError("transient failure on the first attempt")
    return {"value": value * 10, "attempt": attempt}


@worker_task(task_definition_name=FINISH)
def finish(value: int) -> dict[str, int]:
    return {"result": value + 5}


@worker_task(task_definition_name=FATAL)
def fatal(value: int) -> dict[str, int]:
    raise NonRetryableException(f"fatal: cannot handle {value}")
