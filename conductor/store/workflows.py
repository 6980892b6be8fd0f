"""Workflow executions: load under a row lock, create, write a Decision, read, remove."""

from __future__ import annotations

import asyncpg

from conductor.engine.decision import TASK_TIMER_KINDS, Decision, timer_owner
from conductor.engine.model import TaskState, WorkflowState
from conductor.errors import StaleState
from conductor.store import rows
from conductor.store.execution_definitions import ExecutionDefinitions
from conductor.store.pool import Conn
from conductor.store.queries import sql

# Task revisions as loaded, for compare-and-set writes.
Revisions = dict[str, int]


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


async def apply(
    conn: Conn,
    state: WorkflowState,
    decision: Decision,
    revisions: Revisions,
    fired_timer: tuple[str, int] | None = None,
) -> None:
    """Write what a decider pass produced, in few round trips; runs inside the transition's
    transaction. A compare-and-set miss or a lost scheduling race raises StaleState."""
    if fired_timer is not None and not _cleared_with_its_task(fired_timer[0], decision):
        await conn.execute(sql("timer_delete_fired"), *fired_timer)
    if decision.deleted_tasks:
        await conn.execute(sql("task_delete_many"), decision.deleted_tasks)
    if decision.events:
        await conn.executemany(
            sql("event_message_insert"),
            [(e.queue, e.message_id, e.payload, e.created_time) for e in decision.events],
        )
    if decision.workflow_changed:
        await conn.execute(
            sql("workflow_update"),
            state.workflow_id,
            state.status.value,
            state.update_time,
            state.end_time,
            rows.workflow_body(state),
        )
    keys_by_task: dict[str, list[str]] = {}
    other_keys: list[str] = []
    for key in decision.cleared_timer_keys:
        owner = timer_owner(key)
        if owner in decision.changed_tasks:
            keys_by_task.setdefault(owner, []).append(key)
        else:
            other_keys.append(key)
    removals = set(decision.removals)
    for task in decision.changed_tasks.values():
        args = rows.task_save_args(
            task,
            revisions.get(task.task_id, 0),
            state,
            task.task_id in removals,
            keys_by_task.get(task.task_id, []),
        )
        if await conn.fetchval(sql("task_save"), *args) is None:
            raise StaleState(f"task {task.task_id} changed during the transition")
    await _schedule_new_tasks(conn, state, decision)
    new_ids = {t.task_id for t in decision.new_tasks}
    requeued = [p for p in decision.pushes if p.task_id not in new_ids]
    if requeued:
        await conn.executemany(
            sql("task_queue_push"),
            [(p.task_id, p.queue_name, p.priority, p.visible_at) for p in requeued],
        )
    if other_keys:
        await conn.execute(sql("timer_delete_keys"), other_keys)
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


async def _schedule_new_tasks(conn: Conn, state: WorkflowState, decision: Decision) -> None:
    if not decision.new_tasks:
        return
    pushes = {p.task_id: p for p in decision.pushes}
    args = []
    for task in decision.new_tasks:
        push = pushes.get(task.task_id)
        queue = (push.queue_name, push.priority, push.visible_at) if push else (None, None, None)
        args.append((*rows.task_insert_args(task, state), *queue))
    try:
        if len(args) == 1:  # the common case; executemany's pipeline costs more for one row
            await conn.execute(sql("task_schedule"), *args[0])
        else:
            await conn.executemany(sql("task_schedule"), args)
    except asyncpg.UniqueViolationError as exc:
        # Someone scheduled this reference and attempt first: decide again from fresh state.
        raise StaleState(f"task already scheduled: {exc}") from exc


def _cleared_with_its_task(key: str, decision: Decision) -> bool:
    """A fired timer of a task that this decision ends goes with the task's other timers (one
    statement fewer on the hot path of WAITs and timeouts)."""
    return key in decision.cleared_timer_keys and timer_owner(key) in decision.changed_tasks
