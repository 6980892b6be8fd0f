"""Workflow and task search: parsed conditions become a WHERE clause of fixed column expressions
and numbered parameters. Column expressions come only from the dictionaries below, operators only
from a fixed set; every value the user typed travels as a bind parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

from conductor.search_query import Condition, SearchRequest, SortKey
from conductor.store.pool import Conn
from conductor.store.rows import stored_task_from_row
from conductor.store.values import StoredTask

T = TypeVar("T")

# Search keys (see api/handlers/search.py) -> SQL over `workflow w`.
WORKFLOW_COLUMNS = {
    "workflow_id": "w.workflow_id",
    "name": "w.name",
    "version": "w.version",
    "status": "w.status",
    "correlation_id": "w.correlation_id",
    "create_time": "w.create_time",
    "update_time": "w.update_time",
    "end_time": "w.end_time",
    "parent_workflow_id": "w.parent_workflow_id",
    "priority": "w.priority",
    "idempotency_key": "(w.body->>'idempotencyKey')",
}

# Search keys -> SQL over `task t`.
TASK_COLUMNS = {
    "task_id": "t.task_id",
    "task_type": "t.task_type",
    "task_def_name": "(t.body->>'taskDefName')",
    "ref_name": "t.ref_name",
    "status": "t.status",
    "workflow_id": "t.workflow_id",
    "workflow_type": "(t.body->>'workflowType')",
    "correlation_id": "(t.body->>'correlationId')",
    "scheduled_time": "t.scheduled_time",
    "start_time": "t.start_time",
    "end_time": "t.end_time",
    "update_time": "t.update_time",
    "worker_id": "t.worker_id",
}

_FREE_TEXT = {
    "w": "((w.body->'input')::text ILIKE {p} OR (w.body->'output')::text ILIKE {p})",
    "t": "((t.body->'inputData')::text ILIKE {p} OR (t.body->'outputData')::text ILIKE {p})",
}
_OPERATORS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


@dataclass
class _Where:
    columns: dict[str, str]
    params: list[Any] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, condition: Condition) -> None:
        column = self.columns[condition.key]
        if condition.op == "IN":
            self.clauses.append(f"{column} = ANY({self.param(list(condition.values))})")
            return
        value = condition.values[0]
        if condition.key == "parent_workflow_id" and value == "":
            # Conductor's idiom for top-level workflows only.
            self.clauses.append(f"{column} IS {'' if condition.op == '=' else 'NOT '}NULL")
            return
        if condition.wildcard:
            negate = "NOT " if condition.op == "!=" else ""
            pattern = _like_escape(str(value)).replace("*", "%")
            self.clauses.append(f"{column} {negate}LIKE {self.param(pattern)}")
            return
        self.clauses.append(f"{column} {_OPERATORS[condition.op]} {self.param(value)}")

    def free_text(self, alias: str, text: str | None) -> None:
        text = (text or "").strip()
        if text and text != "*":
            placeholder = self.param(f"%{_like_escape(text)}%")
            self.clauses.append(_FREE_TEXT[alias].format(p=placeholder))

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


@dataclass(frozen=True)
class Page(Generic[T]):
    total: int
    items: list[T]


async def workflows(conn: Conn, search: SearchRequest) -> Page[asyncpg.Record]:
    """Workflow rows matching the search; by tasks, those having a task that matches it."""
    where = _Where(WORKFLOW_COLUMNS)
    if search.by_tasks:
        tasks = _Where(TASK_COLUMNS, where.params)
        for condition in search.conditions:
            tasks.add(condition)
        tasks.free_text("t", search.free_text)
        matching = f"SELECT t.workflow_id FROM task t WHERE {tasks.sql()}"
        where.clauses.append(f"w.workflow_id IN ({matching})")
    else:
        for condition in search.conditions:
            where.add(condition)
        where.free_text("w", search.free_text)
    order = _order(search.sort, WORKFLOW_COLUMNS, "w.create_time DESC", "w.workflow_id")
    return await _page(conn, "workflow w", where, order, search)


async def tasks(conn: Conn, search: SearchRequest) -> Page[StoredTask]:
    where = _Where(TASK_COLUMNS)
    for condition in search.conditions:
        where.add(condition)
    where.free_text("t", search.free_text)
    order = _order(search.sort, TASK_COLUMNS, "t.scheduled_time DESC", "t.task_id")
    page = await _page(conn, "task t", where, order, search)
    return Page(page.total, [stored_task_from_row(row) for row in page.items])


async def _page(
    conn: Conn, table: str, where: _Where, order: str, search: SearchRequest
) -> Page[asyncpg.Record]:
    alias = table.split()[1]
    count_sql = f"SELECT count(*) FROM {table} WHERE {where.sql()}"
    total = int(await conn.fetchval(count_sql, *where.params))
    if total == 0 or search.start >= total:
        return Page(total, [])
    limit = len(where.params) + 1
    rows_sql = (
        f"SELECT {alias}.* FROM {table} WHERE {where.sql()} ORDER BY {order} "
        f"LIMIT ${limit} OFFSET ${limit + 1}"
    )
    found = await conn.fetch(rows_sql, *where.params, search.size, search.start)
    return Page(total, list(found))


def explain_sql(conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    """The workflow page query for `conditions` (tests check its plan uses an index)."""
    where = _Where(WORKFLOW_COLUMNS)
    for condition in conditions:
        where.add(condition)
    order = "w.create_time DESC, w.workflow_id"
    sql = f"SELECT w.* FROM workflow w WHERE {where.sql()} ORDER BY {order} LIMIT 100"
    return sql, where.params


def _order(sort: Sequence[SortKey], columns: dict[str, str], default: str, unique: str) -> str:
    """The requested order (default: newest first), ending on a unique column so that pages
    never overlap or skip rows."""
    keys = [f"{columns[k.key]} {'DESC' if k.descending else 'ASC'}" for k in sort] or [default]
    return ", ".join([*keys, unique])


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
