"""Every runtime of the task-type table has its handler, and the runner will not start without."""

from __future__ import annotations

import pytest

from conductor.engine.task_types import Runtime
from conductor.services.http_task import HttpTaskClient
from conductor.services.launches import Launches
from conductor.services.script_runtimes import ScriptRuntimes
from conductor.services.system_task_runner import SystemTaskRunner, runtime_handlers


def test_every_runtime_has_a_handler_and_the_runner_refuses_to_start_without_one() -> None:
    handlers = runtime_handlers(
        ScriptRuntimes(None, None, None),  # type: ignore[arg-type]
        Launches(None, None),  # type: ignore[arg-type]
        HttpTaskClient(),
    )
    assert set(handlers) == set(Runtime)
    del handlers[Runtime.HTTP]
    with pytest.raises(ValueError, match="no handler for runtimes"):
        SystemTaskRunner(None, None, handlers)  # type: ignore[arg-type]
