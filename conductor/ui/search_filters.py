"""The search pages' filters (executions and tasks): read from the URL's query string (so a view
can be shared by link) and turned into the same SearchRequest that /api/workflow/search and
/api/tasks/search build, so the pages and the API search alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from multidict import MultiMapping

from conductor.api.handlers.search import TASK_FIELDS, WORKFLOW_FIELDS
from conductor.engine.model import TaskStatus, WorkflowStatus
from conductor.errors import BadRequest
from conductor.search_query import Condition, Field, SearchRequest, parse_query, parse_sort

DEFAULT_WINDOW_MS = 72 * 3600 * 1000  # Conductor's UI opens on the last 72 hours
PAGE_SIZES = (15, 25, 50, 100)
DEFAULT_SORT = "startTime:DESC"
STATUSES = tuple(status.value for status in WorkflowStatus)
_TIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class Column:
    """A column of the executions table: a field of the search summary."""

    key: str
    label: str
    sort: bool = False  # sortable by the server
    always: bool = False  # the run's link: not for hiding


EXECUTION_COLUMNS = (
    Column("startTime", "Start time", sort=True),
    Column("workflowType", "Workflow", sort=True),
    Column("workflowId", "Workflow id", always=True),
    Column("status", "Status", sort=True),
    Column("endTime", "End time", sort=True),
    Column("updateTime", "Updated", sort=True),
    Column("executionTime", "Duration"),
    Column("correlationId", "Correlation id"),
    Column("idempotencyKey", "Idempotency key"),
    Column("reasonForIncompletion", "Reason"),
    Column("failedReferenceTaskNames", "Failed tasks"),
    Column("priority", "Priority"),
    Column("input", "Input"),
    Column("output", "Output"),
)
DEFAULT_COLUMNS = ("startTime", "workflowType", "workflowId", "status", "endTime", "correlationId")
_COLUMN_KEYS = {column.key for column in EXECUTION_COLUMNS}
SORTABLE = tuple(column.key for column in EXECUTION_COLUMNS if column.sort)


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
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    problems: list[str] = field(default_factory=list)

    def shown(self) -> list[Column]:
        """The chosen columns, in the table's own order."""
        return [c for c in EXECUTION_COLUMNS if c.always or c.key in self.columns]

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
            # Only a changed choice goes in the link, so default views keep short URLs.
            "column": None if self.columns == DEFAULT_COLUMNS else self.columns,
        }


def read_filters(query: MultiMapping[str]) -> ExecutionFilters:
    """Filters from a query string (names and statuses may repeat)."""
    problems: list[str] = []
    size = _int(query.get("size"), 25)
    if size not in PAGE_SIZES:
        size = 25
    sort = query.get("sort") or DEFAULT_SORT
    if sort.partition(":")[0] not in SORTABLE:
        problems.append(f"cannot sort by {sort!r}")
        sort = DEFAULT_SORT
    statuses = tuple(s for s in query.getall("status", ()) if s in STATUSES)
    columns = tuple(c for c in query.getall("column", ()) if c in _COLUMN_KEYS)
    return ExecutionFilters(
        names=tuple(n for n in query.getall("workflowType", ()) if n.strip()),
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
        columns=columns or DEFAULT_COLUMNS,
        problems=problems,
    )


def search_request(filters: ExecutionFilters, now_ms: int) -> SearchRequest:
    """The search these filters ask for; BadRequest for a raw query or time that cannot be read."""
    conditions = _matching(
        WORKFLOW_FIELDS,
        {
            "workflowType": filters.names,
            "status": filters.statuses,
            "workflowId": filters.workflow_id,
            "correlationId": filters.correlation_id,
            "idempotencyKey": filters.idempotency_key,
        },
    )
    conditions += _since(
        WORKFLOW_FIELDS, "startTime", filters.started_from, now_ms - DEFAULT_WINDOW_MS
    )
    if filters.started_to:
        start_key = WORKFLOW_FIELDS["startTime"].key
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


def read_task_filters(query: MultiMapping[str]) -> TaskFilters:
    size = _int(query.get("size"), 25)
    return TaskFilters(
        task_types=tuple(
            name.strip()
            for value in query.getall("taskType", ())
            for name in value.split(",")
            if name.strip()
        ),
        statuses=tuple(s for s in query.getall("status", ()) if s in TASK_STATUSES),
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
    conditions = _matching(
        TASK_FIELDS,
        {
            "taskType": filters.task_types,
            "status": filters.statuses,
            "workflowType": filters.workflow_type,
            "taskId": filters.task_id,
            "workflowId": filters.workflow_id,
        },
    )
    conditions += _since(
        TASK_FIELDS, "updateTime", filters.updated_from, now_ms - DEFAULT_TASK_WINDOW_MS
    )
    return SearchRequest(
        conditions=tuple(conditions),
        free_text=filters.free_text or None,
        sort=tuple(parse_sort("updateTime:DESC", TASK_FIELDS)),
        start=filters.start,
        size=filters.size,
    )


def _matching(
    fields: Mapping[str, Field], wanted: Mapping[str, str | Sequence[str]]
) -> list[Condition]:
    """`field IN (values)` for each field given one or more values (blank ones left out)."""
    conditions = []
    for name, given in wanted.items():
        values = tuple(v for v in ((given,) if isinstance(given, str) else given) if v)
        if values:
            conditions.append(Condition(fields[name].key, "IN", values))
    return conditions


def _since(
    fields: Mapping[str, Field], name: str, typed: str | None, default_ms: int
) -> list[Condition]:
    """A time's lower bound: as typed, none when typed blank, `default_ms` when not given."""
    key = fields[name].key
    if typed is None:
        return [Condition(key, ">=", (default_ms,))]
    return [Condition(key, ">=", (_epoch_ms(typed),))] if typed.strip() else []


def _query_string(values: Mapping[str, object]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, tuple | list):
            pairs.extend((key, str(v)) for v in value)
        elif value is not None:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs)
