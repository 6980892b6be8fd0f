"""Workflow executions: load under a row lock, create, write a Decision, read, remove."""

from __future__ import annotations

import asyncpg

from conductor.engine.decision import Decision
from conductor.engine.model import WorkflowState
from conductor.errors import StaleState
from conductor.store import rows
from conductor.store.pool import Conn
from conductor.store.queries import sql

# Task revisions as loaded, for compare-and-set writes.
Revisions = dict[str, int]


async def load_for_update(conn: Conn, workflow_id: str) -> tuple[WorkflowState, Revisions] | None:
    row = await conn.fetchrow(sql("workflow_lock"), workflow_id)
    if row is None:
        return None
    task_rows = await conn.fetch(sql("task_list_for_workflow"), workflow_id)
    tasks = [rows.task_from_row(r) for r in task_rows]
    revisions = {r["task_id"]: r["revision"] for r in task_rows}
    return rows.workflow_from_row(row, tasks), revisions


async def get(conn: Conn, workflow_id: str, include_tasks: bool = True) -> WorkflowState | None:
    row = await conn.fetchrow(sql("workflow_get"), workflow_id)
    if row is None:
        return None
    tasks = []
    if include_tasks:
        tasks = [
            rows.task_from_row(r)
            for r in await conn.fetch(sql("task_list_for_workflow"), workflow_id)
        ]
    return rows.workflow_from_row(row, tasks)


async def insert(conn: Conn, state: WorkflowState) -> None:
    await conn.execute(sql("workflow_insert"), *rows.workflow_insert_args(state))


async def remove(conn: Conn, workflow_id: str) -> bool:
    return await conn.fetchval(sql("workflow_delete"), workflow_id) is not None


async def by_correlation(
    conn: Conn,
    name: str,
    correlation_id: str,
    include_closed: bool,
    include_tasks: bool,
) -> list[WorkflowState]:
    found = await conn.fetch(sql("workflow_by_correlation"), name, correlation_id, include_closed)
    tasks_by_workflow: dict[str, list[asyncpg.Record]] = {}
    if include_tasks and found:
        ids = [r["workflow_id"] for r in found]
        for task_row in await conn.fetch(sql("task_list_for_workflows"), ids):
            tasks_by_workflow.setdefault(task_row["workflow_id"], []).append(task_row)
    return [
        rows.workflow_from_row(
            r, [rows.task_from_row(t) for t in tasks_by_workflow.get(r["workflow_id"], [])]
        )
        for r in found
    ]


async def apply(
    conn: Conn,
    state: WorkflowState,
    decision: Decision,
    revisions: Revisions,
    fired_timer: tuple[str, int] | None = None,
) -> None:
    """Write everything a decider pass produced; must run inside the transition's transaction."""
    if fired_timer is not None:
        await conn.execute(sql("timer_delete_fired"), *fired_timer)
    if decision.workflow_changed or decision.new_tasks or decision.changed_tasks:
        await conn.execute(
            sql("workflow_update"),
            state.workflow_id,
            state.status.value,
            state.update_time,
            state.end_time,
            rows.workflow_body(state),
        )
    if decision.new_tasks:
        try:
            await conn.executemany(
                sql("task_insert"), [rows.task_insert_args(t, state) for t in decision.new_tasks]
            )
        except asyncpg.UniqueViolationError as exc:
            # Someone scheduled this reference and attempt first: decide again from fresh state.
            raise StaleState(f"task already scheduled: {exc}") from exc
    for task in decision.changed_tasks.values():
        args = rows.task_update_args(task, revisions.get(task.task_id, 0), state)
        if await conn.fetchval(sql("task_update"), *args) is None:
            raise StaleState(f"task {task.task_id} changed during the transition")
    await _apply_queue_and_timers(conn, state, decision)


async def _apply_queue_and_timers(conn: Conn, state: WorkflowState, decision: Decision) -> None:
    if decision.removals:
        await conn.execute(sql("task_queue_remove"), decision.removals)
    if decision.pushes:
        await conn.executemany(
            sql("task_queue_push"),
            [(p.task_id, p.queue_name, p.priority, p.visible_at) for p in decision.pushes],
        )
    if decision.clear_workflow_timers:
        await conn.execute(sql("timer_delete_for_workflow"), state.workflow_id)
    else:
        if decision.cleared_task_timers:
            await conn.execute(sql("timer_delete_for_tasks"), decision.cleared_task_timers)
        if decision.cleared_timer_keys:
            await conn.execute(sql("timer_delete_keys"), decision.cleared_timer_keys)
        if decision.timers:
            await conn.executemany(
                sql("timer_upsert"),
                [
                    (t.key, t.workflow_id, t.task_id, t.kind.value, t.fire_at, t.payload)
                    for t in decision.timers
                ],
            )
    if decision.logs:
        await conn.executemany(
            sql("task_log_insert"),
            [(log.task_id, log.log, log.created_time) for log in decision.logs],
        )
