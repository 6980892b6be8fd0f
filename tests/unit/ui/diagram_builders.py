"""Builders for diagram tests: WorkflowTask dicts."""

from __future__ import annotations

from typing import Any


def task(ref: str, type_: str = "SIMPLE", **extra: Any) -> dict[str, Any]:
    return {"name": extra.pop("name", ref), "taskReferenceName": ref, "type": type_, **extra}


def fork(ref: str, *lanes: list[dict[str, Any]]) -> dict[str, Any]:
    return task(ref, "FORK_JOIN", forkTasks=list(lanes))


def join(ref: str, *on: str) -> dict[str, Any]:
    return task(ref, "JOIN", joinOn=list(on))


def switch(ref: str, default: list[dict[str, Any]] | None = None, **cases: Any) -> dict[str, Any]:
    return task(
        ref,
        "SWITCH",
        evaluatorType="value-param",
        expression="x",
        decisionCases=cases,
        defaultCase=default or [],
    )


def loop(ref: str, *body: dict[str, Any]) -> dict[str, Any]:
    return task(ref, "DO_WHILE", loopCondition="true", loopOver=list(body))
