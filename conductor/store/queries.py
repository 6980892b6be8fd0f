"""Loads the SQL catalogue (sql/queries.sql) once into a name -> statement mapping."""

from __future__ import annotations

import re
from importlib import resources

_ENTRY = re.compile(r"^-- name: (\w+)\n-- [^\n]*\n(.*?)(?=^-- name: |\Z)", re.S | re.M)


def _load() -> dict[str, str]:
    text = resources.files("conductor.store").joinpath("sql/queries.sql").read_text("utf-8")
    catalogue = {name: body.strip() for name, body in _ENTRY.findall(text)}
    if not catalogue:
        raise RuntimeError("the SQL catalogue is empty")
    # Every entry needs its description line: without one the regex would glue the entry onto
    # the one before it.
    declared = re.findall(r"^-- name: (\w+)$", text, re.M)
    if sorted(declared) != sorted(catalogue):
        missing = sorted(set(declared) - set(catalogue))
        raise RuntimeError(f"SQL catalogue entries without a description line: {missing}")
    return catalogue


QUERIES: dict[str, str] = _load()


def sql(name: str) -> str:
    """The statement registered under `name` (KeyError for an unknown name)."""
    return QUERIES[name]
