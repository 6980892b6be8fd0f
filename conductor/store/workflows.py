"""Workflow executions: load under a row lock, create, read, remove (writes: store/writes.py)."""

from __future__ import annotations

from conductor.engine.decision import TASK_TIMER_KINDS
from conductor.engine.model import TaskState, WorkflowState
from conductor.store import rows
from conductor.store.execution_definitions import ExecutionDefinitions
from conductor.store.pool import Conn
from conductor.store.queries import sql
from conductor.store.writes import Revisions


async def load_for_update(
    conn: Conn, workflow_id: str, definitions: ExecutionDefinitions
) -> tuple[WorkflowState, Revisions] | None:
    row = await conn.fetchrow(sql("workflow_lock"), workflow_id)
    if row is None:
        return None
    task_rows = await conn.fetch(sql("task_list_for_workflow"), workflow_id)
    tasks = [rows.task_from_row(r) for r in task_rows]
    revisions = {r["task_id"]: r["revision"] for r in task_rows}
    definition = await definitions.get(conn, row["definition_id"])
    return rows.workflow_from_row(row, definition, tasks), revisions


async def lock_many(
    conn: Conn, workflow_ids: list[str], definitions: ExecutionDefinitions
) -> dict[str, tuple[WorkflowState, Revisions]]:
    """Lock and load those of `workflow_ids` that no other transaction holds (SKIP LOCKED), in
    two statements; the caller handles the rest (locked elsewhere, or gone) one by one."""
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
    loaded = {}
    for row in found:
        wid = row["workflow_id"]
        definition = await definitions.get(conn, row["definition_id"])
        loaded[wid] = (rows.workflow_from_row(row, definition, tasks[wid]), revisions[wid])
    return loaded


async def get(
    conn: Conn, workflow_id: str, definitions: ExecutionDefinitions, include_tasks: bool = True
) -> WorkflowState | None:
    row = await conn.fetchrow(sql("workflow_get"), workflow_id)
    if row is None:
        return None
    tasks: list[TaskState] = []
    if include_tasks:
        found = await conn.fetch(sql("task_list_for_workflow"), workflow_id)
        tasks = [rows.task_from_row(r) for r in found]
    definition = await definitions.get(conn, row["definition_id"])
    return rows.workflow_from_row(row, definition, tasks)


async def insert(conn: Conn, state: WorkflowState, definitions: ExecutionDefinitions) -> None:
    definition_id = await definitions.store(conn, state.definition)
    await conn.execute(sql("workflow_insert"), *rows.workflow_insert_args(state, definition_id))


async def remove(conn: Conn, workflow_id: str) -> bool:
    kinds = [kind.value for kind in TASK_TIMER_KINDS]
    return await conn.fetchval(sql("workflow_delete"), workflow_id, kinds) is not None


async def by_correlation(
    conn: Conn,
    name: str,
    correlation_id: str,
    include_closed: bool,
    include_tasks: bool,
    definitions: ExecutionDefinitions,
) -> list[WorkflowState]:
    found = await conn.fetch(sql("workflow_by_correlation"), name, correlation_id, include_closed)
    tasks_by_workflow: dict[str, list[TaskState]] = {}
    if include_tasks and found:
        ids = [r["workflow_id"] for r in found]
        for task_row in await conn.fetch(sql("task_list_for_workflows"), ids):
            task = rows.task_from_row(task_row)
            tasks_by_workflow.setdefault(task.workflow_id, []).append(task)
    return [
        rows.workflow_from_row(
            r,
            await definitions.get(conn, r["definition_id"]),
            tasks_by_workflow.get(r["workflow_id"], []),
        )
        for r in found
    ]
