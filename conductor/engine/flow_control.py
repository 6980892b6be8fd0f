"""The decider's flow-control tasks: JOINs, dynamic forks and DO_WHILE loops.

A mixin of the decider (engine/decider.py): these methods read and change the same workflow state
and decision, and call back into the decider to schedule, finish or end.
"""

from __future__ import annotations

from conductor.engine import dynamic_fork, loops
from conductor.engine.decider_base import DeciderBase
from conductor.engine.decision import TimerKind, task_timer_keys
from conductor.engine.definitions import ad_hoc_task_def, next_task
from conductor.engine.inputs import LoopConditionEvaluated
from conductor.engine.model import (
    TaskState,
    TaskStatus,
    TaskType,
    WorkflowStatus,
    base_ref,
    loop_ref,
)
from conductor.engine.task_types import FORK_TASK_TYPE, JOIN_RULES, is_worker_task


class FlowControl(DeciderBase):
    def _fork_dynamically(self, fork: TaskState, iteration: int) -> bool:
        """Schedule one branch per dynamic entry, then the JOIN waiting on exactly those."""
        others = any(
            t.task_type == FORK_TASK_TYPE
            and t is not fork
            and t.workflow_task.get("type") == TaskType.FORK_JOIN_DYNAMIC
            for t in self.state.tasks
        )
        existing = {base_ref(t.ref_name) for t in self.state.tasks}
        try:
            nodes = dynamic_fork.forked_tasks(fork.workflow_task, fork.input_data, others)
            dynamic_fork.check_refs(nodes, existing)
        except dynamic_fork.DynamicForkError as exc:
            self._end_workflow(WorkflowStatus.FAILED, str(exc))
            return False
        refs = [loop_ref(str(n["taskReferenceName"]), iteration) for n in nodes]
        fork.input_data["forkedTasks"] = refs
        fork.input_data["forkedTaskDefs"] = nodes
        self.decision.touch(fork)
        for node in nodes:
            node.setdefault(
                "taskDefinition", ad_hoc_task_def(str(node.get("name")), is_worker_task(node))
            )
            self._schedule(node, iteration)
        following = next_task(self.state.definition, base_ref(fork.ref_name))
        if following is not None:
            self._schedule(following, iteration)
            join_ref = loop_ref(str(following.get("taskReferenceName")), iteration)
            join = next((t for t in self.state.tasks if t.ref_name == join_ref), None)
            if join is not None and join.task_type == TaskType.JOIN:
                join.input_data["joinOn"] = refs
        return True

    # -- DO_WHILE -----------------------------------------------------------------------------

    def _begin_iteration(self, loop_task: TaskState, iteration: int) -> None:
        self._prune(loop_task, iteration - 1)
        loop_task.iteration = iteration
        loop_task.output_data["iteration"] = iteration
        self.decision.touch(loop_task)
        body = loop_task.workflow_task.get("loopOver") or []
        if body:
            self._schedule(body[0], iteration)

    def _prune(self, loop_task: TaskState, latest: int) -> None:
        """keepLastN: drop iterations older than the last N finished ones."""
        keep = loops.keep_last_n(loop_task)
        old = loops.prunable(self.state, loop_task, keep, latest) if keep else []
        if not old:
            return
        gone = {t.task_id for t in old}
        self.state.tasks = [t for t in self.state.tasks if t.task_id not in gone]
        self.decision.deleted_tasks.extend(gone)
        for task_id in gone:
            self.decision.changed_tasks.pop(task_id, None)
            self.decision.cleared_timer_keys.extend(task_timer_keys(task_id))
        for n in {t.iteration for t in old}:
            loop_task.output_data.pop(str(n), None)

    def _check_loops(self) -> bool:
        """Close DO_WHILE iterations whose tasks have all ended; True if any state changed."""
        changed = False
        for loop_task in list(self.state.tasks):
            if loop_task.task_type != TaskType.DO_WHILE or loop_task.status.terminal:
                continue
            n = loop_task.iteration
            if loop_task.awaiting_iteration == n:
                continue
            tasks = loops.iteration_tasks(self.state, loop_task, n)
            if not loops.iteration_ended(tasks):
                continue
            loop_task.output_data[str(n)] = loops.iteration_output(tasks)
            failed = loops.failures(tasks)
            if failed:
                loop_task.reason_for_incompletion = " ".join(
                    t.reason_for_incompletion or "" for t in failed
                ).strip()
                self._finish_task(loop_task, TaskStatus.FAILED)
            else:  # the condition is a script: evaluated outside the decider, then reported
                loop_task.awaiting_iteration = n
                self.decision.touch(loop_task)
                self.decision.arm(
                    TimerKind.SYSTEM_TASK, loop_task.workflow_id, loop_task.task_id, self.ctx.now
                )
            changed = True
        return changed

    def _apply_loop_condition(self, event: LoopConditionEvaluated) -> bool:
        loop_task = self.state.task(event.task_id)
        if (
            loop_task is None
            or loop_task.status.terminal
            or loop_task.awaiting_iteration != event.iteration
            or self.state.status.terminal
        ):
            self.decision.ignored = True
            return False
        loop_task.awaiting_iteration = 0
        self.decision.touch(loop_task)
        if event.error is not None:
            loop_task.reason_for_incompletion = event.error
            self._finish_task(loop_task, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
        elif event.proceed:
            self._begin_iteration(loop_task, event.iteration + 1)
        else:
            self._prune(loop_task, event.iteration)
            self._finish_task(loop_task, TaskStatus.COMPLETED)
        return True

    def _check_joins(self) -> bool:
        """Complete or fail JOINs whose branches have ended; True if any did."""
        joins = [
            (t, rule)
            for t in self.state.tasks
            if (rule := JOIN_RULES.get(t.task_type)) is not None and not t.status.terminal
        ]
        if not joins:
            return False
        latest = {t.ref_name: t for t in self.state.tasks}
        ended = False
        for join, rule in joins:
            outcome = rule(join, latest)
            if outcome is None:
                continue
            join.output_data = outcome.output
            join.reason_for_incompletion = outcome.reason
            self._finish_task(join, outcome.status)
            ended = True
        return ended
