"""Links within one page that change some of its query parameters and keep the others (the tab,
the task shown, the task filter and page, a loop's iteration)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from conductor.ui.diagram import Links

# Parameters of a request that are not the page's state: never carried into its links.
_NOT_STATE = frozenset({"since"})


def query_link(query: Mapping[str, str], **changes: str | int | None) -> str:
    """`?…` with `changes` applied to `query`; a change of None drops that parameter."""
    params = {k: v for k, v in query.items() if k not in _NOT_STATE}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return "?" + urlencode(params)


class ExecutionLinks(Links):
    """The execution page's diagram: its links keep the page's other parameters, and a task
    not reached yet opens by its reference name (its panel offers to skip it)."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self.query = query

    def task(self, task_id: str) -> str:
        return query_link(self.query, task=task_id)

    def reference(self, ref: str) -> str | None:
        return query_link(self.query, task=ref)

    def iteration(self, loop_ref: str, iteration: int) -> str:
        return query_link(self.query, loop=loop_ref, iteration=iteration)
