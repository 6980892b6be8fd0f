"""Workflow executions: load under a row lock, create, read, search, remove (writes: writes.py).

`WorkflowStore` owns the cache of the definitions runs execute (execution_definitions.py), so
callers never handle it: every read comes back as engine values with their definition attached.
"""

from __future__ import annotations

import asyncpg

from conductor.engine.decision import TASK_TIMER_KINDS
from conductor.engine.model import TaskState, WorkflowState
from conductor.search_query import SearchRequest
from conductor.store import rows, search
from conductor.store.execution_definitions import ExecutionDefinitions
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.writes import Revisions, Writes


class WorkflowStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._definitions = ExecutionDefinitions()

    def writes(self) -> Writes:
        """A batch of decisions to write in the caller's transaction."""
        return Writes(self._definitions)

    async def load_for_update(
        self, conn: Conn, workflow_id: str
    ) -> tuple[WorkflowState, Revisions] | None:
        row = await conn.fetchrow(sql("workflow_lock"), workflow_id)
        if row is None:
            return None
        task_rows = await conn.fetch(sql("task_list_for_workflow"), workflow_id)
        tasks = [rows.task_from_row(r) for r in task_rows]
        revisions = {r["task_id"]: r["revision"] for r in task_rows}
        return await self._state(conn, row, tasks), revisions

    async def lock_many(
        self, conn: Conn, workflow_ids: list[str]
    ) -> dict[str, tuple[WorkflowState, Revisions]]:
        """Lock and load those of `workflow_ids` that no other transaction holds (SKIP LOCKED),
        in two statements; the caller handles the rest (locked elsewhere, or gone) one by one."""
        found = await conn.fetch(sql("workflow_lock_many"), workflow_ids)
        if not found:
            return {}
        locked = [r["workflow_id"] for r in found]
        tasks: dict[str, list[TaskState]] = {wid: [] for wid in locked}
        revisions: dict[str, Revisions] = {wid: {} for wid in locked}
        for task_row in await conn.fetch(sql("task_list_for_workflows"), locked):
            task = rows.task_from_row(task_row)
            tasks[task.workflow_id].append(task)
            revisions[task.workflow_id][task.task_id] = task_row["revision"]
        return {
            row["workflow_id"]: (
                await self._state(conn, row, tasks[row["workflow_id"]]),
                revisions[row["workflow_id"]],
            )
            for row in found
        }

    async def get(
        self, conn: Conn, workflow_id: str, include_tasks: bool = True
    ) -> WorkflowState | None:
        row = await conn.fetchrow(sql("workflow_get"), workflow_id)
        if row is None:
            return None
        tasks: list[TaskState] = []
        if include_tasks:
            found = await conn.fetch(sql("task_list_for_workflow"), workflow_id)
            tasks = [rows.task_from_row(r) for r in found]
        return await self._state(conn, row, tasks)

    async def read(self, workflow_id: str, include_tasks: bool = True) -> WorkflowState | None:
        """`get` on a connection of its own."""
        async with self.pool.acquire() as conn:
            return await self.get(conn, workflow_id, include_tasks)

    async def change_mark(self, workflow_id: str) -> str | None:
        """A value that differs after any change to the run or its tasks; None: no such run."""
        async with self.pool.acquire() as conn:
            mark: str | None = await conn.fetchval(sql("workflow_change_mark"), workflow_id)
            return mark

    async def insert(self, conn: Conn, state: WorkflowState) -> None:
        await self.insert_many(conn, [state])

    async def insert_many(self, conn: Conn, states: list[WorkflowState]) -> None:
        """Insert runs: each distinct definition stored once, several runs by one pipeline."""
        ids: dict[int, str] = {}  # runs of one batch share the resolved definition's dict
        for state in states:
            if id(state.definition) not in ids:
                ids[id(state.definition)] = await self._definitions.store(conn, state.definition)
        args = [rows.workflow_insert_args(s, ids[id(s.definition)]) for s in states]
        if len(args) == 1:
            await conn.execute(sql("workflow_insert"), *args[0])
        else:
            await conn.executemany(sql("workflow_insert"), args)

    async def remove(self, workflow_id: str) -> bool:
        """Delete a run with its tasks, queue rows and timers; False when there is none."""
        kinds = [kind.value for kind in TASK_TIMER_KINDS]
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql("workflow_delete"), workflow_id, kinds) is not None

    async def by_correlation(
        self,
        conn: Conn,
        name: str,
        correlation_id: str,
        include_closed: bool,
        include_tasks: bool,
    ) -> list[WorkflowState]:
        found = await conn.fetch(
            sql("workflow_by_correlation"), name, correlation_id, include_closed
        )
        tasks_by_workflow: dict[str, list[TaskState]] = {}
        if include_tasks and found:
            ids = [r["workflow_id"] for r in found]
            for task_row in await conn.fetch(sql("task_list_for_workflows"), ids):
                task = rows.task_from_row(task_row)
                tasks_by_workflow.setdefault(task.workflow_id, []).append(task)
        return [
            await self._state(conn, r, tasks_by_workflow.get(r["workflow_id"], [])) for r in found
        ]

    async def running_ids(
        self, conn: Conn, name: str, version: int, window: tuple[int, int] | None
    ) -> list[str]:
        """Conductor's "running workflows": a version's runs not yet ended, or, given a window of
        start times, every run of that version started in it."""
        if window is None:
            found = await conn.fetch(sql("workflow_ids_running"), name, version)
        else:
            found = await conn.fetch(sql("workflow_ids_started_between"), name, version, *window)
        return [str(r["workflow_id"]) for r in found]

    async def search(self, request: SearchRequest) -> search.Page[WorkflowState]:
        """A page of runs matching a search, without their tasks."""
        async with self.pool.acquire() as conn:
            page = await search.workflows(conn, request)
            states = [await self._state(conn, row, []) for row in page.items]
        return search.Page(page.total, states)

    async def _state(
        self, conn: Conn, row: asyncpg.Record, tasks: list[TaskState]
    ) -> WorkflowState:
        definition = await self._definitions.get(conn, row["definition_id"])
        return rows.workflow_from_row(row, definition, tasks)
