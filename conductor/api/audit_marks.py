"""The workflows an audited request touched, for the authorize middleware's audit entry.

A route with a `{workflow_id}` touches that workflow; a handler that acts on workflows named in
its body (the bulk routes) says which with `touches`, since only it has read the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class _Subjects:
    workflow_ids: tuple[str, ...]


_SUBJECTS = web.RequestKey("audit_subjects", _Subjects)


def touches(request: web.Request, workflow_ids: Iterable[str]) -> None:
    """Name the workflows this request acts on, for its audit entry."""
    request[_SUBJECTS] = _Subjects(tuple(workflow_ids))


def subjects_of(request: web.Request) -> tuple[str, ...]:
    marked: _Subjects | None = request.get(_SUBJECTS)
    if marked is not None:
        return marked.workflow_ids
    workflow_id: str | None = request.match_info.get("workflow_id")
    return (workflow_id,) if workflow_id else ()
