"""Write what decider passes produced: one workflow's Decision or many, in few round trips.

`Writes` gathers the rows of one or more decisions by statement, then `flush` sends each
statement once: a plain execute for one row, an asyncpg pipeline (executemany/fetchmany) for
several. Statements run in the same order for every workflow, so a batch of decisions writes
exactly what the same decisions written one by one would. Runs inside the caller's transaction;
a compare-and-set miss or a lost scheduling race raises StaleState.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.engine.decision import Decision, timer_owner
from conductor.engine.model import WorkflowState
from conductor.errors import StaleState
from conductor.store import rows
from conductor.store.execution_definitions import ExecutionDefinitions
from conductor.store.pool import Conn
from conductor.store.queries import sql

# Task revisions as loaded, for compare-and-set writes.
Revisions = dict[str, int]
Args = tuple[Any, ...]


class Writes:
    def __init__(self, definitions: ExecutionDefinitions) -> None:
        self.definitions = definitions
        self.reopened: list[tuple[WorkflowState, bool]] = []
        self.fired_timers: list[Args] = []
        self.deleted_tasks: list[Args] = []
        self.events: list[Args] = []
        self.workflows: list[Args] = []
        self.saved_tasks: list[Args] = []
        self.new_tasks: list[Args] = []
        self.requeued: list[Args] = []
        self.timer_deletes: list[str] = []
        self.timers: list[Args] = []
        self.logs: list[Args] = []

    def add(
        self,
        state: WorkflowState,
        decision: Decision,
        revisions: Revisions,
        fired_timer: tuple[str, int] | None = None,
    ) -> None:
        if fired_timer is not None and not _cleared_with_its_task(fired_timer[0], decision):
            self.fired_timers.append(fired_timer)
        if decision.reopened:
            self.reopened.append((state, decision.definition_changed))
        if decision.deleted_tasks:
            self.deleted_tasks.append((decision.deleted_tasks,))
        self.events.extend(
            (e.queue, e.message_id, e.payload, e.created_time) for e in decision.events
        )
        if decision.workflow_changed:
            self.workflows.append(
                (
                    state.workflow_id,
                    state.status.value,
                    state.update_time,
                    state.end_time,
                    rows.workflow_body(state),
                )
            )
        # A task's own timers go with its row write (one statement fewer on the hot path).
        keys_by_task: dict[str, list[str]] = {}
        for key in decision.cleared_timer_keys:
            owner = timer_owner(key)
            if owner in decision.changed_tasks:
                keys_by_task.setdefault(owner, []).append(key)
            else:
                self.timer_deletes.append(key)
        removals = set(decision.removals)
        for task in decision.changed_tasks.values():
            self.saved_tasks.append(
                rows.task_save_args(
                    task,
                    revisions.get(task.task_id, 0),
                    state,
                    task.task_id in removals,
                    keys_by_task.get(task.task_id, []),
                )
            )
        pushes = {p.task_id: p for p in decision.pushes}
        for task in decision.new_tasks:
            push = pushes.get(task.task_id)
            queue = (push.queue_name, push.priority, push.visible_at) if push else (None,) * 3
            self.new_tasks.append((*rows.task_insert_args(task, state), *queue))
        new_ids = {t.task_id for t in decision.new_tasks}
        self.requeued.extend(
            (p.task_id, p.queue_name, p.priority, p.visible_at)
            for p in decision.pushes
            if p.task_id not in new_ids
        )
        self.timers.extend(
            (t.key, t.workflow_id, t.task_id, t.kind.value, t.fire_at, t.payload)
            for t in decision.timers
        )
        self.logs.extend((g.task_id, g.log, g.created_time) for g in decision.logs)

    async def flush(self, conn: Conn) -> None:
        for state, definition_changed in self.reopened:
            definition_id = None
            if definition_changed:
                definition_id = await self.definitions.store(conn, state.definition)
            await conn.execute(
                sql("workflow_reopen"),
                state.workflow_id,
                definition_id,
                state.version,
                state.create_time,
                state.correlation_id,
            )
        await _run(conn, sql("timer_delete_fired"), self.fired_timers)
        await _run(conn, sql("task_delete_many"), self.deleted_tasks)
        await _run(conn, sql("event_message_insert"), self.events)
        await _run(
            conn, sql("workflow_update"), self.workflows, bulk=(sql("workflow_update_many"), _WF)
        )
        await self._save_tasks(conn)
        try:
            await _run(conn, sql("task_schedule"), self.new_tasks)
        except asyncpg.UniqueViolationError as exc:
            # Someone scheduled this reference and attempt first: decide again from fresh state.
            raise StaleState(f"task already scheduled: {exc}") from exc
        await _run(conn, sql("task_queue_push"), self.requeued)
        if self.timer_deletes:
            await conn.execute(sql("timer_delete_keys"), self.timer_deletes)
        await _run(conn, sql("timer_upsert"), self.timers)
        await _run(conn, sql("task_log_insert"), self.logs)

    async def _save_tasks(self, conn: Conn) -> None:
        if not self.saved_tasks:
            return
        if len(self.saved_tasks) == 1:
            saved = 1 if await conn.fetchval(sql("task_save"), *self.saved_tasks[0]) else 0
        else:
            saved = await conn.fetchval(sql("task_save_many"), _records(_TASK, self.saved_tasks))
        if saved != len(self.saved_tasks):
            raise StaleState("a task changed during the transition")


async def _run(
    conn: Conn, query: str, args: list[Args], bulk: tuple[str, tuple[str, ...]] | None = None
) -> None:
    """One row: a plain execute (the common case; a pipeline costs more for one row). Several:
    the set-based `bulk` statement (query, field names) if there is one, else a pipeline."""
    if len(args) == 1:
        await conn.execute(query, *args[0])
    elif args and bulk is not None:
        await conn.execute(bulk[0], _records(bulk[1], args))
    elif args:
        await conn.executemany(query, args)


# Field names of the JSON rows the set-based statements read, in their single-row argument order.
_WF = ("workflow_id", "status", "update_time", "end_time", "body")
_TASK = (
    "task_id",
    "revision",
    "status",
    "poll_count",
    "start_time",
    "end_time",
    "update_time",
    "worker_id",
    "callback_after_seconds",
    "body",
    "dequeue",
    "timer_keys",
)


def _records(names: tuple[str, ...], args: list[Args]) -> list[dict[str, Any]]:
    """Rows as one JSON array for jsonb_to_recordset: a single parameter costs asyncpg far less
    to encode than one array per column (which it checks element by element)."""
    return [dict(zip(names, row, strict=True)) for row in args]


def _cleared_with_its_task(key: str, decision: Decision) -> bool:
    """A fired timer of a task that this decision ends goes with the task's other timers."""
    return key in decision.cleared_timer_keys and timer_owner(key) in decision.changed_tasks
