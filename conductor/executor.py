"""The single transition path: lock the workflow row, decide, write, commit, then wake others.

Every input goes through `transition` (task results, timers, operator actions) or `start`;
`transition_many` applies events to many workflows in one transaction (due timers in bulk).
Writes use compare-and-set on task revisions, so a concurrent poll that claimed a task between
our read and write makes the transition retry from a fresh read instead of overwriting it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg

from conductor import faults
from conductor.clock import Clock
from conductor.config import DEFAULT_MAX_PAYLOAD_BYTES
from conductor.engine.decider import decide
from conductor.engine.decision import DecideContext, Decision, TimerIntent, TimerKind
from conductor.engine.definitions import populate_task_definitions, task_names
from conductor.engine.inputs import Input, StartWorkflow, TaskResultReceived
from conductor.engine.model import JSON, TaskStatus, WorkflowState, WorkflowStatus
from conductor.engine.operations import failed_child_id, first_unsuccessful_task
from conductor.engine.payloads import limit_task_output, workflow_input_problem
from conductor.engine.templates import java_string
from conductor.errors import Conflict, NotFound, PayloadTooLarge, StaleState
from conductor.hand_off import HandOffRound, HandOffs
from conductor.metrics import Metrics
from conductor.store import definitions as def_store
from conductor.store import idempotency
from conductor.store import tasks as task_store
from conductor.store.limits import LimitsCache, has_limits
from conductor.store.pool import Conn
from conductor.store.values import StoredTask
from conductor.store.workflows import WorkflowStore
from conductor.wakeups import Wakeups
from conductor.wire.start_request import StartRequest, failure_workflow_start

log = logging.getLogger(__name__)

# A poll this recent makes a domain's worker count as live (Conductor's
# activeWorkerLastPollTimeout). Poll data reaches the database within a couple of seconds.
ACTIVE_POLLER_MS = 10_000
_RETRYABLE = (StaleState, asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
_MAX_ATTEMPTS = 8
_MAX_NESTING = 32  # sub-workflow levels followed when looking for the failed run
# Failure workflows started inside one transaction when each fails as it starts (a longer chain
# goes on through the FAILURE_WORKFLOW timer, as it always may).
_FAILURE_CHAIN = 4


@dataclass(frozen=True)
class PendingInput:
    """A decider input for one workflow, for `Executor.transition_many`."""

    workflow_id: str
    event: Input
    fired_timer: tuple[str, int] | None = None
    # A worker id: a terminal task result also claims that worker's next task (update-v2).
    claim_next_for: str | None = None


@dataclass(frozen=True)
class Started:
    """A run started inside a transaction, to announce once it commits."""

    state: WorkflowState
    decision: Decision
    now: int


@dataclass
class Transition:
    state: WorkflowState
    decision: Decision
    # Tasks claimed for the reporting worker in the same transaction (update-v2).
    claimed: list[StoredTask] = field(default_factory=list)
    # Failure workflows the transition started (a run that failed starts its failureWorkflow).
    started: list[Started] = field(default_factory=list)

    def decisions(self) -> list[Decision]:
        """Its own decision and those of the failure workflows it started."""
        return [self.decision, *(run.decision for run in self.started)]


class Executor:
    def __init__(
        self,
        store: WorkflowStore,
        clock: Clock,
        wakeups: Wakeups,
        metrics: Metrics,
        limits: LimitsCache,
        *,
        max_workflow_input_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        max_task_output_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    ) -> None:
        self.store = store
        self.pool = store.pool
        self.clock = clock
        self.wakeups = wakeups
        self.metrics = metrics
        self.limits = limits
        # Long-polls waiting here, for transactions that make their tasks ready (hand_off.py).
        self.hand_offs = HandOffs(wakeups.queues.wake)
        self.max_workflow_input_bytes = max_workflow_input_bytes
        self.max_task_output_bytes = max_task_output_bytes
        self.committed = 0  # transitions committed so far: background work reads it as load
        self.finished = 0  # workflows this executor finished so far (retention keeps pace)
        # Told of the timers each commit wrote, with the time (start admission looks ahead).
        self._timer_listeners: list[Callable[[Sequence[TimerIntent], int], None]] = []
        self._random = random.Random()

    def context(self) -> DecideContext:
        return DecideContext(
            now=self.clock.now_ms(),
            new_id=lambda: str(uuid.uuid4()),
            jitter_ms=lambda bound: self._random.randint(0, bound),
        )

    async def _context_for(
        self, conn: Conn, states: Sequence[WorkflowState], ctx: DecideContext | None = None
    ) -> DecideContext:
        """The decide context (`ctx`, or a new one); workflows that map tasks to domains also get
        the queues polled recently (on any server), so the first listed domain with a live worker
        is chosen."""
        ctx = ctx or self.context()
        if not any(state.task_to_domain for state in states):
            return ctx
        since = ctx.now - ACTIVE_POLLER_MS
        return replace(ctx, active_queues=await task_store.recently_polled_queues(conn, since))

    async def resolve_definition(self, conn: Conn, request: StartRequest) -> JSON:
        definition = request.workflow_def
        if definition is None:
            definition = await def_store.get_workflow_def(conn, request.name, request.version)
            if definition is None:
                raise NotFound(
                    f"No such workflow defined. name={request.name},"
                    f" version={java_string(request.version)}"
                )
        registered = await def_store.get_task_defs(conn, sorted(task_names(definition)))
        return populate_task_definitions(definition, registered)

    async def start(self, request: StartRequest) -> WorkflowState:
        started = time.perf_counter()
        async with self.pool.acquire() as conn:
            try:
                async with self.hand_offs.round() as handing, conn.transaction():
                    runs = await self._begin(conn, request)
                    decisions = [run.decision for run in runs]
                    await self._hand_off(conn, handing, decisions, runs[0].now)
            except asyncpg.UniqueViolationError:
                if request.workflow_id is None:
                    raise
                # Launched already (a repeated SUB_WORKFLOW/START_WORKFLOW run): the same run.
                existing = await self.store.get(conn, request.workflow_id)
                if existing is None:
                    raise
                return existing
            except _ExistingRun as run:  # RETURN_EXISTING: the run holding the key
                existing = await self.store.get(conn, run.workflow_id)
                if existing is None:
                    raise NotFound(f"Workflow with id: {run.workflow_id} not found.") from None
                return existing
        self._announce(runs)
        self.metrics.transition_seconds.labels("start").observe(time.perf_counter() - started)
        return runs[0].state

    @staticmethod
    def batchable_start(request: StartRequest) -> bool:
        """Whether `start_batch` may take this start: not one that names its own id (a launch
        that may have happened already) or carries an idempotency key (whose holder another
        start may be changing); those go through `start`."""
        return request.workflow_id is None and not request.idempotency_key

    async def start_batch(self, requests: Sequence[StartRequest]) -> list[WorkflowState | None]:
        """Start many runs in one transaction: each definition resolved once, the runs inserted
        by one pipelined statement, their first decisions written together, one commit. Aligned
        with `requests`; None marks a start not made here, for `start` to make or refuse alone:
        one `batchable_start` refuses, an unknown definition, an input over the cap, a run that
        fails at once (its failure workflow starts with it), or (all of them) any error."""
        began = time.perf_counter()
        results: list[WorkflowState | None] = [None] * len(requests)
        async with (
            self.pool.acquire() as conn,
            self.hand_offs.round() as handing,
            conn.transaction(),
        ):
            runs = await self._start_batch_in(conn, requests)
            if runs:
                decisions = [run.decision for _, run in runs]
                await self._hand_off(conn, handing, decisions, runs[0][1].now)
        if not runs:
            return results
        self._announce([run for _, run in runs])
        elapsed = time.perf_counter() - began
        histogram = self.metrics.transition_seconds.labels("start")
        for index, run in runs:
            results[index] = run.state
            histogram.observe(elapsed)
        return results

    async def _start_batch_in(
        self, conn: Conn, requests: Sequence[StartRequest]
    ) -> list[tuple[int, Started]]:
        """`start_batch` inside its transaction: the runs it made, by index in `requests`."""
        ctx = self.context()
        resolved: dict[tuple[str, int | None], JSON | None] = {}
        fresh: list[tuple[int, WorkflowState]] = []
        runs: list[tuple[int, Started]] = []
        for index, request in enumerate(requests):
            if not self.batchable_start(request):
                continue
            definition = await self._resolve_once(conn, request, resolved)
            if definition is None:
                continue
            state = _new_state(definition, request, ctx)
            if workflow_input_problem(
                state.input, state.workflow_id, self.max_workflow_input_bytes
            ):
                continue
            fresh.append((index, state))
        ctx = await self._context_for(conn, [state for _, state in fresh], ctx)
        for index, state in fresh:
            decision = decide(state, StartWorkflow(), ctx)
            if any(t.kind is TimerKind.FAILURE_WORKFLOW for t in decision.timers):
                continue
            runs.append((index, Started(state, decision, ctx.now)))
        if not runs:
            return runs
        await self.store.insert_many(conn, [run.state for _, run in runs])
        writes = self.store.writes()
        for _, run in runs:
            writes.add(run.state, run.decision, {})
        await writes.flush(conn)
        return runs

    async def _resolve_once(
        self,
        conn: Conn,
        request: StartRequest,
        resolved: dict[tuple[str, int | None], JSON | None],
    ) -> JSON | None:
        """The definition a start runs, looked up once per name and version in a batch; an
        inline definition each time. None: no such definition (`start` reports it)."""
        if request.workflow_def is not None:
            return await self.resolve_definition(conn, request)
        key = (request.name, request.version)
        if key not in resolved:
            try:
                resolved[key] = await self.resolve_definition(conn, request)
            except NotFound:
                resolved[key] = None
        return resolved[key]

    async def _begin(self, conn: Conn, request: StartRequest, depth: int = 0) -> list[Started]:
        """Inside the caller's transaction: insert the run and write its first decision. The
        run first, then the failure workflows started because it failed at once."""
        definition = await self.resolve_definition(conn, request)
        ctx = self.context()
        state = _new_state(definition, request, ctx)
        # Measured as stored (inputTemplate filled in); refused before anything is written.
        problem = workflow_input_problem(
            state.input, state.workflow_id, self.max_workflow_input_bytes
        )
        if problem is not None:
            raise PayloadTooLarge(problem)
        ctx = await self._context_for(conn, [state], ctx)
        await self.store.insert(conn, state)
        if request.idempotency_key:
            await self._claim_idempotency_key(conn, request, state)
        decision = decide(state, StartWorkflow(), ctx)
        chained = await self._start_failure_workflow(conn, state, decision, depth)
        writes = self.store.writes()
        writes.add(state, decision, {})
        await writes.flush(conn)
        return [Started(state, decision, ctx.now), *chained]

    async def _start_failure_workflow(
        self, conn: Conn, failed: WorkflowState, decision: Decision, depth: int = 0
    ) -> list[Started]:
        """Start the failureWorkflow a failing decision asks for inside the failing transaction
        (before the failed run is written), so the id in its output names a run that exists as
        soon as the failure commits; both commit or neither does. The decision's
        FAILURE_WORKFLOW timer is then dropped. When the start fails for a reason a retry would
        not change (no such definition, an input over the cap) the run still fails and its
        output says why, as in Conductor's WorkflowExecutor; on any other error the timer stays
        and starts the run later (timers/effects.py), so nothing is lost either way."""
        intent = next((t for t in decision.timers if t.kind is TimerKind.FAILURE_WORKFLOW), None)
        if intent is None or depth >= _FAILURE_CHAIN:
            return []
        request = failure_workflow_start(failed, json.loads(intent.payload or "{}"))
        try:
            async with conn.transaction():  # a savepoint: a failed start undoes only itself
                started = await self._begin(conn, request, depth + 1)
        except (NotFound, PayloadTooLarge) as exc:
            failed.output["conductor.failure_workflow"] = (
                f"Error workflow {request.name} failed to start.  reason: {exc}"
            )
            decision.timers.remove(intent)
            log.warning("failureWorkflow of %s not started: %s", failed.workflow_id, exc)
            return []
        except _RETRYABLE:
            raise  # the whole transition starts again
        except Exception:
            log.exception("failureWorkflow of %s left to its timer", failed.workflow_id)
            return []
        decision.timers.remove(intent)
        return started

    def _announce(self, runs: Sequence[Started]) -> None:
        for run in runs:
            self.metrics.workflows_started.labels(run.state.name).inc()
            self._after_commit(run.state, run.decision, run.now)

    @staticmethod
    async def _claim_idempotency_key(
        conn: Conn, request: StartRequest, state: WorkflowState
    ) -> None:
        """Inside the starting transaction: take the key, or apply the strategy to its holder
        (raising rolls the new workflow back)."""
        key = str(request.idempotency_key)
        holder = await idempotency.claim(conn, state.name, key, state.workflow_id)
        if holder is None:
            return
        strategy = request.idempotency_strategy
        if strategy == "RETURN_EXISTING":
            raise _ExistingRun(holder.workflow_id)
        running = holder.status in (WorkflowStatus.RUNNING.value, WorkflowStatus.PAUSED.value)
        if strategy == "FAIL_ON_RUNNING" and not running:
            await idempotency.hand_over(conn, state.name, key, state.workflow_id)
            return
        raise Conflict(
            f"A workflow with idempotencyKey {key} already exists: {holder.workflow_id} "
            f"(status {holder.status}, idempotencyStrategy {strategy})"
        )

    async def transition(
        self,
        workflow_id: str,
        event: Input,
        fired_timer: tuple[str, int] | None = None,
        *,
        claim_next_for: str | None = None,
    ) -> Transition:
        """Apply one event to one workflow in its own transaction (retried on write conflicts).

        With `claim_next_for` (a worker id; update-v2), a terminal task result also claims the
        next task of the same queue for that worker inside the same transaction: one commit.

        Every task result enters here (workers, system tasks, finished children, event actions),
        so here an output over the cap becomes the task's terminal failure; measured once, not
        on each retry of a conflicting write.
        """
        started = time.perf_counter()
        if isinstance(event, TaskResultReceived):
            event = self.limit_output(workflow_id, event)
        for attempt in range(_MAX_ATTEMPTS):
            try:
                result, now = await self._transition_once(
                    workflow_id, event, fired_timer, claim_next_for
                )
            except _RETRYABLE:
                if attempt == _MAX_ATTEMPTS - 1:
                    raise
                self.metrics.transition_retries.inc()
                await asyncio.sleep(self._random.uniform(0, 0.005 * 2**attempt))
                continue
            self._after_commit(result.state, result.decision, now)
            self._announce(result.started)
            name = type(event).__name__
            self.metrics.transition_seconds.labels(name).observe(time.perf_counter() - started)
            return result
        raise AssertionError("unreachable")

    def limit_output(self, workflow_id: str, event: TaskResultReceived) -> TaskResultReceived:
        """The result as applied: an output over the cap becomes the task's terminal failure."""
        return limit_task_output(event, workflow_id, self.max_task_output_bytes)

    async def _transition_once(
        self,
        workflow_id: str,
        event: Input,
        fired_timer: tuple[str, int] | None,
        claim_next_for: str | None,
    ) -> tuple[Transition, int]:
        async with (
            self.pool.acquire() as conn,
            self.hand_offs.round() as handing,
            conn.transaction(),
        ):
            result, now = await self._transition_in(
                conn, workflow_id, event, fired_timer, claim_next_for
            )
            await self._hand_off(conn, handing, result.decisions(), now)
            faults.reached("transition.before_commit")
        faults.reached("transition.after_commit")
        return result, now

    async def _transition_in(
        self,
        conn: Conn,
        workflow_id: str,
        event: Input,
        fired_timer: tuple[str, int] | None,
        claim_next_for: str | None,
    ) -> tuple[Transition, int]:
        loaded = await self.store.load_for_update(conn, workflow_id)
        if loaded is None:
            raise NotFound(f"Workflow with id: {workflow_id} not found.")
        state, revisions = loaded
        if isinstance(event, TaskResultReceived) and state.task(event.task_id) is None:
            raise NotFound(f"No such task found by id: {event.task_id}")
        ctx = await self._context_for(conn, [state])
        decision = decide(state, event, ctx)
        started = await self._start_failure_workflow(conn, state, decision)
        writes = self.store.writes()
        writes.add(state, decision, revisions, fired_timer)
        await writes.flush(conn)
        result = Transition(state, decision, started=started)
        if claim_next_for is not None and isinstance(event, TaskResultReceived):
            result.claimed = await self._claim_next(conn, state, event, claim_next_for, ctx.now)
        return result, ctx.now

    async def transition_many(
        self, pending: Sequence[PendingInput], pool: asyncpg.Pool | None = None
    ) -> list[PendingInput]:
        """Apply events to many workflows in one transaction (`transition_batch`); returns the
        events it did not apply, for the caller to pass one by one to `transition` (which waits
        for locks, retries conflicts and reports errors). This is how due timers fire in bulk;
        `pool` lets the timer service use its own connections."""
        results = await self.transition_batch(pending, pool)
        return [item for item, result in zip(pending, results, strict=True) if result is None]

    async def transition_batch(
        self, pending: Sequence[PendingInput], pool: asyncpg.Pool | None = None
    ) -> list[Transition | None]:
        """Apply events to many workflows in one transaction: two statements to lock and load
        them all, one pipelined statement per kind of write, one commit. The result is aligned
        with `pending`; None marks an event not applied here, to go through `transition`: its
        workflow is held by another transaction or gone, it is a second event for the same
        workflow, its task is unknown, the decider refused it, or (all of them) the batch hit a
        write conflict. Group commit of task results (group_commit.py) and due timers use it.
        """
        started = time.perf_counter()
        results: list[Transition | None] = [None] * len(pending)
        first: dict[str, int] = {}
        for index, item in enumerate(pending):
            first.setdefault(item.workflow_id, index)
        if not first:
            return results
        decided: list[tuple[int, Transition]] = []
        try:
            async with (
                (pool or self.pool).acquire() as conn,
                self.hand_offs.round() as handing,
                conn.transaction(),
            ):
                loaded = await self.store.lock_many(conn, sorted(first))
                ctx = await self._context_for(conn, [state for state, _ in loaded.values()])
                writes = self.store.writes()
                for workflow_id, index in first.items():
                    item = pending[index]
                    if workflow_id not in loaded:
                        continue
                    state, revisions = loaded[workflow_id]
                    event = item.event
                    if isinstance(event, TaskResultReceived) and state.task(event.task_id) is None:
                        continue  # transition() reports it
                    try:
                        decision = decide(state, event, ctx)
                    except Exception:  # transition() raises it again and reports it
                        continue
                    launched = await self._start_failure_workflow(conn, state, decision)
                    writes.add(state, decision, revisions, item.fired_timer)
                    decided.append((index, Transition(state, decision, started=launched)))
                await writes.flush(conn)
                await self._claim_next_many(conn, pending, decided, ctx.now)
                decisions = [d for _, result in decided for d in result.decisions()]
                await self._hand_off(conn, handing, decisions, ctx.now)
                faults.reached("transition.before_commit")
        except _RETRYABLE:
            self.metrics.transition_retries.inc()
            return [None] * len(pending)
        faults.reached("transition.after_commit")
        elapsed = time.perf_counter() - started
        histograms: dict[type, Any] = {}
        for index, result in decided:
            results[index] = result
            self._after_commit(result.state, result.decision, ctx.now)
            self._announce(result.started)
            kind = type(pending[index].event)
            if kind not in histograms:
                histograms[kind] = self.metrics.transition_seconds.labels(kind.__name__)
            histograms[kind].observe(elapsed)
        return results

    async def latest_definition(self, workflow_id: str) -> JSON:
        """The newest registered version of a workflow's definition, task definitions filled in
        (restart with `useLatestDefinitions`)."""
        async with self.pool.acquire() as conn:
            state = await self.store.get(conn, workflow_id, include_tasks=False)
            if state is None:
                raise NotFound(f"Workflow with id: {workflow_id} not found.")
            definition = await def_store.get_workflow_def(conn, state.name, None)
            if definition is None:
                raise NotFound(f"Unable to find latest definition for {workflow_id}")
            registered = await def_store.get_task_defs(conn, sorted(task_names(definition)))
        return populate_task_definitions(definition, registered)

    async def run_to_resume(self, workflow_id: str) -> str | None:
        """Retry with resumeSubworkflowTasks: the deepest run whose failure failed this one,
        following failed SUB_WORKFLOW tasks down (Conductor's findLastFailedSubWorkflowIfAny);
        retrying it in place revives the runs above. None when this run has no unsuccessful
        task (Conductor then does nothing); the run itself when it cannot be retried, so the
        retry reports why."""
        async with self.pool.acquire() as conn:
            state = await self.store.get(conn, workflow_id)
            if state is None:
                raise NotFound(f"Workflow with id: {workflow_id} not found.")
            if not state.status.terminal or not state.tasks:
                return workflow_id
            failed = first_unsuccessful_task(state)
            if failed is None:
                return None
            for _ in range(_MAX_NESTING):
                child_id = failed_child_id(state, failed)
                child = child_id and await self.store.get(conn, child_id)
                if not child:
                    break
                child_failed = first_unsuccessful_task(child)
                if child_failed is None:
                    break
                state, failed = child, child_failed
        return state.workflow_id

    async def _claim_next(
        self,
        conn: Conn,
        state: WorkflowState,
        event: TaskResultReceived,
        worker_id: str,
        now: int,
    ) -> list[StoredTask]:
        queue = _next_queue(state, event)
        if queue is None:
            return []
        queue_name, task_type = queue
        limits = await self.limits.get(conn, task_type)
        return await task_store.claim(conn, queue_name, now, 1, worker_id or None, limits)

    async def _claim_next_many(
        self,
        conn: Conn,
        pending: Sequence[PendingInput],
        decided: list[tuple[int, Transition]],
        now: int,
    ) -> None:
        """update-v2's next task for each result of a batch that asks for one: one claim per
        queue and worker for all of them (one statement each, not one per result), shared out
        in order; a result left without a task gets none, as a lone claim finding none."""
        wanting: dict[tuple[str, str, str | None], list[Transition]] = {}
        for index, result in decided:
            item = pending[index]
            if item.claim_next_for is None or not isinstance(item.event, TaskResultReceived):
                continue
            queue = _next_queue(result.state, item.event)
            if queue is not None:
                key = (*queue, item.claim_next_for or None)
                wanting.setdefault(key, []).append(result)
        for (queue_name, task_type, worker_id), results in wanting.items():
            limits = await self.limits.get(conn, task_type)
            claimed = await task_store.claim(conn, queue_name, now, len(results), worker_id, limits)
            for result, task in zip(results, claimed, strict=False):
                result.claimed = [task]

    async def _hand_off(
        self, conn: Conn, handing: HandOffRound, decisions: Sequence[Decision], now: int
    ) -> None:
        """Last, before the commit: claim the tasks these decisions made ready for the first
        long-poll waiting here on each of their queues (hand_off.py). Queues of rate- or
        concurrency-limited task types are left to the polls' own claims."""
        queues = {p.queue_name for d in decisions for p in d.pushes if p.visible_at <= now}
        for queue in sorted(queues):
            waiting = self.hand_offs.first_waiting(queue)
            if waiting is None:
                continue
            limits = await self.limits.get(conn, waiting.task_type)
            if limits.active:
                continue
            poll = handing.take(queue)
            if poll is not None:
                handing.claimed[poll] = await task_store.claim(
                    conn, queue, now, poll.count, poll.worker_id
                )

    def add_timer_listener(self, listener: Callable[[Sequence[TimerIntent], int], None]) -> None:
        self._timer_listeners.append(listener)

    def _after_commit(self, state: WorkflowState, decision: Decision, now: int) -> None:
        self.committed += 1
        visible = {p.queue_name for p in decision.pushes if p.visible_at <= now}
        # A limited task that stopped running frees room: its queue's pollers may claim again.
        visible.update(
            t.queue_name
            for t in decision.changed_tasks.values()
            if t.queue_name is not None
            and t.status is not TaskStatus.IN_PROGRESS
            and has_limits(t.workflow_task.get("taskDefinition"))
        )
        if visible:
            self.wakeups.queues_ready(visible)
        if decision.timers:
            self.wakeups.timers_written(min(t.fire_at for t in decision.timers))
            for listener in self._timer_listeners:
                listener(decision.timers, now)
        if decision.events:
            self.wakeups.event_messages_written()
        if decision.finished:
            self.finished += 1
            self.wakeups.workflow_finished(state.workflow_id)
            self.metrics.workflows_finished.labels(state.name, state.status.value).inc()
            self.metrics.workflow_duration.labels(state.name, state.status.value).observe(
                max((state.end_time or now) - state.create_time, 0) / 1000
            )
            _log_finished(state)
        else:
            self.wakeups.workflow_changed(state.workflow_id)
        if decision.ignored:
            self.metrics.task_updates_ignored.inc()
        for task in decision.finished_tasks:
            self.metrics.tasks_finished.labels(task.task_type, task.status.value).inc()
            if task.start_time:
                self.metrics.task_execution.labels(task.task_type).observe(
                    max((task.end_time or now) - task.start_time, 0) / 1000
                )


def _log_finished(state: WorkflowState) -> None:
    """Failures and timeouts are what operators look for; terminations were asked for."""
    status = state.status
    if status not in (WorkflowStatus.FAILED, WorkflowStatus.TIMED_OUT, WorkflowStatus.TERMINATED):
        return
    fields = {"workflow_id": state.workflow_id, "workflow_type": state.name}
    reason = (state.reason_for_incompletion or "no reason given")[:500]
    if status is WorkflowStatus.TERMINATED:
        log.info("workflow %s terminated: %s", state.name, reason, extra=fields)
        return
    failed = ", ".join(state.failed_reference_task_names)
    log.warning(
        "workflow %s %s: %s%s",
        state.name,
        "failed" if status is WorkflowStatus.FAILED else "timed out",
        reason,
        f" (failed tasks: {failed})" if failed else "",
        extra=fields,
    )


class _ExistingRun(Exception):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(workflow_id)
        self.workflow_id = workflow_id


def _new_state(definition: JSON, request: StartRequest, ctx: DecideContext) -> WorkflowState:
    workflow_input = dict(request.input)
    template = definition.get("inputTemplate")
    if workflow_input and isinstance(template, dict):
        for key, value in template.items():
            workflow_input.setdefault(key, value)
    variables: Any = definition.get("variables")
    return WorkflowState(
        workflow_id=request.workflow_id or str(uuid.uuid4()),
        parent_workflow_id=request.parent_workflow_id,
        parent_workflow_task_id=request.parent_workflow_task_id,
        definition=definition,
        status=WorkflowStatus.RUNNING,
        create_time=ctx.now,
        update_time=ctx.now,
        input=workflow_input,
        variables=dict(variables) if isinstance(variables, dict) else {},
        task_to_domain=dict(request.task_to_domain),
        correlation_id=request.correlation_id,
        priority=request.priority,
        created_by=request.created_by,
        idempotency_key=request.idempotency_key,
    )


def _next_queue(state: WorkflowState, event: TaskResultReceived) -> tuple[str, str] | None:
    """(queue, task type) update-v2 claims the reporting worker's next task from: the queue of
    the task it just finished; None when the task did not end (nothing to claim)."""
    task = state.task(event.task_id)
    if task is None or task.queue_name is None or event.extend_lease:
        return None
    if not task.status.terminal:
        return None
    return task.queue_name, task.task_type
