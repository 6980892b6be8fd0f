"""The payload caps as pure rules: sizes in bytes of compact JSON, Conductor's messages."""

from __future__ import annotations

from conductor.engine.inputs import TaskResultReceived
from conductor.engine.model import TaskStatus
from conductor.engine.payloads import json_size, limit_task_output, workflow_input_problem

# {"k":"xxxxx"} is 13 bytes.
FITS, OVER = {"k": "xxxxx"}, {"k": "xxxxxx"}


def result(output: dict | None, **fields) -> TaskResultReceived:
    return TaskResultReceived("t1", TaskStatus.COMPLETED, output=output, **fields)


def test_sizes_are_bytes_of_compact_utf8_json() -> None:
    assert json_size(FITS) == 13
    assert json_size({"é": 1}) == len('{"é":1}'.encode())
    assert json_size({"n": 2**70}) is None  # not JSON the store could write either


def test_a_task_output_at_the_limit_passes_and_one_byte_over_fails_terminally() -> None:
    assert limit_task_output(result(FITS), "w1", 13) == result(FITS)
    failed = limit_task_output(result(OVER, logs=["kept"]), "w1", 13)
    assert failed.status is TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert failed.output == {}
    assert failed.reason == (
        "The payload size: 14 of task: t1 in workflow: w1  "
        "is greater than the permissible limit: 13 bytes"
    )
    assert failed.logs == ["kept"]


def test_results_without_an_output_to_keep_are_not_measured() -> None:
    assert limit_task_output(result(None), "w1", 0) == result(None)
    assert limit_task_output(result({}), "w1", 0) == result({})
    lease = result(OVER, extend_lease=True)
    assert limit_task_output(lease, "w1", 13) == lease


def test_workflow_input_message() -> None:
    assert workflow_input_problem(FITS, "w1", 13) is None
    assert workflow_input_problem(OVER, "w1", 13) == (
        "The payload size: 14 of workflow: w1 is greater than the permissible limit: 13 bytes"
    )
