"""The search pages' filters (executions and tasks): read from the URL's query string (so a view
can be shared by link) and turned into the same SearchRequest that /api/workflow/search and
/api/tasks/search build, so the pages and the API search alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from conductor.api.handlers.search import TASK_FIELDS, WORKFLOW_FIELDS
from conductor.engine.model import TaskStatus, WorkflowStatus
from conductor.errors import BadRequest
from conductor.search_query import Condition, SearchRequest, parse_query, parse_sort

DEFAULT_WINDOW_MS = 72 * 3600 * 1000  # Conductor's UI opens on the last 72 hours
PAGE_SIZES = (15, 25, 50, 100)
DEFAULT_SORT = "startTime:DESC"
SORTABLE = ("startTime", "endTime", "workflowType", "status", "updateTime")
STATUSES = tuple(status.value for status in WorkflowStatus)
_TIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class ExecutionFilters:
    names: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    workflow_id: str = ""
    correlation_id: str = ""
    idempotency_key: str = ""
    free_text: str = ""
    query: str = ""
    # Start-time range, as typed in the form (UTC, minutes); None: the last 72 hours.
    started_from: str | None = None
    started_to: str = ""
    sort: str = DEFAULT_SORT
    start: int = 0
    size: int = 25
    problems: list[str] = field(default_factory=list)

    def link(self, **changes: object) -> str:
        """This view's query string with some filters changed (for paging and sorting links)."""
        return _query_string({**self._params(), **changes})

    def _params(self) -> dict[str, object]:
        return {
            "workflowType": self.names,
            "status": self.statuses,
            "workflowId": self.workflow_id or None,
            "correlationId": self.correlation_id or None,
            "idempotencyKey": self.idempotency_key or None,
            "freeText": self.free_text or None,
            "query": self.query or None,
            "from": self.started_from,
            "to": self.started_to or None,
            "sort": self.sort,
            "size": self.size,
        }


def read_filters(query: Mapping[str, str], multi: Mapping[str, Sequence[str]]) -> ExecutionFilters:
    """Filters from a query string (`multi` gives the repeated parameters)."""
    problems: list[str] = []
    size = _int(query.get("size"), 25)
    if size not in PAGE_SIZES:
        size = 25
    sort = query.get("sort") or DEFAULT_SORT
    if sort.partition(":")[0] not in SORTABLE:
        problems.append(f"cannot sort by {sort!r}")
        sort = DEFAULT_SORT
    statuses = tuple(s for s in multi.get("status", ()) if s in STATUSES)
    return ExecutionFilters(
        names=tuple(n for n in multi.get("workflowType", ()) if n.strip()),
        statuses=statuses,
        workflow_id=(query.get("workflowId") or "").strip(),
        correlation_id=(query.get("correlationId") or "").strip(),
        idempotency_key=(query.get("idempotencyKey") or "").strip(),
        free_text=(query.get("freeText") or "").strip(),
        query=(query.get("query") or "").strip(),
        started_from=query.get("from"),
        started_to=(query.get("to") or "").strip(),
        sort=sort,
        start=max(_int(query.get("start"), 0), 0),
        size=size,
        problems=problems,
    )


def search_request(filters: ExecutionFilters, now_ms: int) -> SearchRequest:
    """The search these filters ask for; BadRequest for a raw query or time that cannot be read."""
    conditions: list[Condition] = []

    def equal(name: str, values: Sequence[str]) -> None:
        if values:
            conditions.append(Condition(WORKFLOW_FIELDS[name].key, "IN", tuple(values)))

    equal("workflowType", filters.names)
    equal("status", filters.statuses)
    equal("workflowId", [filters.workflow_id] if filters.workflow_id else [])
    equal("correlationId", [filters.correlation_id] if filters.correlation_id else [])
    equal("idempotencyKey", [filters.idempotency_key] if filters.idempotency_key else [])
    start_key = WORKFLOW_FIELDS["startTime"].key
    if filters.started_from is None:
        conditions.append(Condition(start_key, ">=", (now_ms - DEFAULT_WINDOW_MS,)))
    elif filters.started_from.strip():
        conditions.append(Condition(start_key, ">=", (_epoch_ms(filters.started_from),)))
    if filters.started_to:
        conditions.append(Condition(start_key, "<=", (_epoch_ms(filters.started_to),)))
    conditions.extend(parse_query(filters.query, WORKFLOW_FIELDS))
    return SearchRequest(
        conditions=tuple(conditions),
        free_text=filters.free_text or None,
        sort=tuple(parse_sort(filters.sort, WORKFLOW_FIELDS)),
        start=filters.start,
        size=filters.size,
    )


def form_time(ms: int) -> str:
    """A time as a datetime-local form value (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(_TIME_FORMAT)


def _epoch_ms(text: str) -> int:
    try:
        moment = datetime.strptime(text.strip(), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BadRequest(f"Cannot read the time {text!r}: expected YYYY-MM-DDTHH:MM") from None
    return int(moment.timestamp() * 1000)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None and text.strip() else default
    except ValueError:
        return default


TASK_STATUSES = tuple(status.value for status in TaskStatus)
DEFAULT_TASK_WINDOW_MS = 3600 * 1000  # "the failed tasks of the last hour"


@dataclass(frozen=True)
class TaskFilters:
    task_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    workflow_type: str = ""
    task_id: str = ""
    workflow_id: str = ""
    free_text: str = ""
    # Update-time lower bound (UTC, minutes); None: the last hour.
    updated_from: str | None = None
    start: int = 0
    size: int = 25

    def link(self, **changes: object) -> str:
        values: dict[str, object] = {
            "taskType": ",".join(self.task_types) or None,
            "status": self.statuses,
            "workflowType": self.workflow_type or None,
            "taskId": self.task_id or None,
            "workflowId": self.workflow_id or None,
            "freeText": self.free_text or None,
            "from": self.updated_from,
            "size": self.size,
            **changes,
        }
        return _query_string(values)


def read_task_filters(query: Mapping[str, str], multi: Mapping[str, Sequence[str]]) -> TaskFilters:
    size = _int(query.get("size"), 25)
    return TaskFilters(
        task_types=tuple(
            name.strip()
            for value in multi.get("taskType", ())
            for name in value.split(",")
            if name.strip()
        ),
        statuses=tuple(s for s in multi.get("status", ()) if s in TASK_STATUSES),
        workflow_type=(query.get("workflowType") or "").strip(),
        task_id=(query.get("taskId") or "").strip(),
        workflow_id=(query.get("workflowId") or "").strip(),
        free_text=(query.get("freeText") or "").strip(),
        updated_from=query.get("from"),
        start=max(_int(query.get("start"), 0), 0),
        size=size if size in PAGE_SIZES else 25,
    )


def task_search_request(filters: TaskFilters, now_ms: int) -> SearchRequest:
    """The same search /api/tasks/search makes; newest update first."""
    conditions: list[Condition] = []

    def equal(name: str, values: Sequence[str]) -> None:
        if values:
            conditions.append(Condition(TASK_FIELDS[name].key, "IN", tuple(values)))

    equal("taskType", filters.task_types)
    equal("status", filters.statuses)
    equal("workflowType", [filters.workflow_type] if filters.workflow_type else [])
    equal("taskId", [filters.task_id] if filters.task_id else [])
    equal("workflowId", [filters.workflow_id] if filters.workflow_id else [])
    updated = TASK_FIELDS["updateTime"].key
    if filters.updated_from is None:
        conditions.append(Condition(updated, ">=", (now_ms - DEFAULT_TASK_WINDOW_MS,)))
    elif filters.updated_from.strip():
        conditions.append(Condition(updated, ">=", (_epoch_ms(filters.updated_from),)))
    return SearchRequest(
        conditions=tuple(conditions),
        free_text=filters.free_text or None,
        sort=tuple(parse_sort("updateTime:DESC", TASK_FIELDS)),
        start=filters.start,
        size=filters.size,
    )


def _query_string(values: Mapping[str, object]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, tuple | list):
            pairs.extend((key, str(v)) for v in value)
        elif value is not None:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs)
