"""The execution page's task list: one status at a time (`taskStatus`), a page at a time
(`taskPage`), so a run of thousands of tasks stays a small page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conductor.engine.model import TaskStatus

PER_PAGE = 100
STATUSES = tuple(status.value for status in TaskStatus)


@dataclass(frozen=True)
class TaskPage:
    items: list[Mapping[str, Any]]
    status: str  # "" for every status
    page: int  # from 1
    pages: int
    total: int  # tasks of the status, on every page


def task_page(tasks: Sequence[Mapping[str, Any]], query: Mapping[str, str]) -> TaskPage:
    """The page of `tasks` the query asks for; an unknown status or page reads as none/the
    nearest page rather than an error."""
    status = query.get("taskStatus", "")
    status = status if status in STATUSES else ""
    matching = [t for t in tasks if not status or t.get("status") == status]
    pages = max(1, -(-len(matching) // PER_PAGE))
    wanted = query.get("taskPage", "1")
    page = min(max(int(wanted), 1), pages) if wanted.isdigit() else 1
    start = (page - 1) * PER_PAGE
    return TaskPage(matching[start : start + PER_PAGE], status, page, pages, len(matching))
