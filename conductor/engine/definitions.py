"""Reading workflow definitions: what comes next, task definitions filled in, and queue names."""

from __future__ import annotations

import copy
from typing import Any

from conductor.engine.model import JSON, TASK_DEF_DEFAULTS, TaskType
from conductor.engine.task_starts import SCRIPT_EVALUATORS
from conductor.engine.task_tree import find_position, walk
from conductor.engine.task_types import Shape, is_worker_task, spec_of

SWITCH_EVALUATORS = SCRIPT_EVALUATORS | {"value-param"}
# Conductor's ForkJoinTaskMapper and ForkJoinDynamicTaskMapper, word for word.
FORK_WITHOUT_JOIN = "Fork task definition is not followed by a join task.  Check the blueprint"
DYNAMIC_FORK_WITHOUT_JOIN = (
    "Dynamic join definition is not followed by a join task.  Check the workflow definition."
)


def next_task(definition: JSON, ref: str) -> JSON | None:
    """The WorkflowTask scheduled after `ref` completes (Conductor's getNextTask).

    The next sibling; at the end of a SWITCH/DECISION branch, what follows the SWITCH; at the end
    of a fork branch nothing (the JOIN, scheduled with the fork, collects the branches).
    """
    position = find_position(definition.get("tasks") or [], ref)
    if position is None:
        return None
    siblings, index, parent = position
    if index + 1 < len(siblings):
        return siblings[index + 1]
    if parent is None:
        return None
    if spec_of(parent).shape is Shape.BRANCH:
        return next_task(definition, str(parent.get("taskReferenceName")))
    return None


def scheduling_problem(definition: JSON, workflow_task: JSON) -> str | None:
    """Why Conductor's task mapper would refuse to schedule this WorkflowTask (its
    TerminateWorkflowException, which fails the run with this reason), or None. Registration
    accepts these definitions, as Conductor does: the problem is the run's."""
    kind = workflow_task.get("type")
    if kind in (TaskType.FORK_JOIN, TaskType.FORK_JOIN_DYNAMIC):
        following = next_task(definition, str(workflow_task.get("taskReferenceName")))
        if following is None or following.get("type") != TaskType.JOIN:
            return FORK_WITHOUT_JOIN if kind == TaskType.FORK_JOIN else DYNAMIC_FORK_WITHOUT_JOIN
    if kind == TaskType.SWITCH:
        evaluator = workflow_task.get("evaluatorType")
        if evaluator not in SWITCH_EVALUATORS:
            shown = "null" if evaluator is None else evaluator
            return f"No evaluator registered for type: {shown}"
    return None


def ad_hoc_task_def(name: str, worker_task: bool) -> JSON:
    """Conductor's default TaskDef for a task with none registered."""
    task_def: JSON = {"name": name, **copy.deepcopy(TASK_DEF_DEFAULTS)}
    if not worker_task:
        task_def["retryCount"] = 0
        task_def["responseTimeoutSeconds"] = 0
    return task_def


def task_names(definition: JSON) -> set[str]:
    return {str(t["name"]) for t in walk(definition.get("tasks") or []) if t.get("name")}


def populate_task_definitions(definition: JSON, registered: dict[str, JSON]) -> JSON:
    """A copy of the definition with `taskDefinition` filled on every node (stored with the run)."""
    populated = copy.deepcopy(definition)
    for task in walk(populated.get("tasks") or []):
        if isinstance(task.get("taskDefinition"), dict):
            continue
        name = str(task.get("name", ""))
        found = registered.get(name)
        task["taskDefinition"] = (
            copy.deepcopy(found) if found else ad_hoc_task_def(name, is_worker_task(task))
        )
    return populated


def queue_name(task_type: str, domain: str | None) -> str:
    return f"{domain}:{task_type}" if domain else task_type


def pick_domain(
    task_to_domain: dict[str, Any], task_name: str, active_queues: frozenset[str] = frozenset()
) -> str | None:
    """The domain for a worker task, as Conductor picks it: of the listed domains (an explicit
    mapping wins over `*`), the first whose queue has a recent poller (`active_queues`), else the
    last one listed; NO_DOMAIN means none."""
    mapping = task_to_domain.get(task_name, task_to_domain.get("*"))
    if not isinstance(mapping, str) or not mapping.strip():
        return None
    candidates = [d.strip() for d in mapping.split(",") if d.strip()]
    if not candidates:
        return None
    for domain in candidates:
        if domain != "NO_DOMAIN" and queue_name(task_name, domain) in active_queues:
            return domain
    last = candidates[-1]
    return None if last == "NO_DOMAIN" else last
