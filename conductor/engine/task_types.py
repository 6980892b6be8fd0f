"""Every task type in one table: what it is, how the decider runs it, how a definition using it
is checked, where its work runs outside the decider, and how a diagram draws it.

Adding a system task type means a `TaskType` member (engine/model.py), one `TaskTypeSpec` entry
below, and its behaviour in its own module: a starter (engine/task_starts.py) when the decider
computes its result, or a runtime (services/task_runtimes.py) when a service does the work; a
validation rule (engine/task_rules.py) if its WorkflowTask needs fields. A test fails when a type
is registered by halves (tests/unit/engine/test_task_types.py). docs/architecture.md has the
checklist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from conductor.engine import task_rules, task_starts
from conductor.engine.joins import JoinRule, exclusive_join_outcome, join_outcome
from conductor.engine.model import JSON, TaskState, TaskType
from conductor.engine.task_rules import Rule
from conductor.engine.task_starts import SCRIPT_EVALUATORS, Starter

# The taskType the tasks of both fork types carry.
FORK_TASK_TYPE = "FORK"


class Shape(StrEnum):
    """How a diagram draws a task of the type, which is also how the decider moves past it."""

    TASK = "task"  # one step, then the next sibling
    BRANCH = "branch"  # SWITCH, DECISION: the selected branch, then what follows
    FORK = "fork"  # every branch at once
    DYNAMIC_FORK = "dynamic-fork"  # branches made from its input at run time
    JOIN = "join"  # waits for the branches it names
    LOOP = "loop"  # its body again while the condition holds
    SUB_WORKFLOW = "sub-workflow"  # a child run
    WAIT = "wait"  # until a time or an external update
    TERMINATE = "terminate"  # ends the run


class Runtime(StrEnum):
    """Work a service does outside the decider (fired by a SYSTEM_TASK timer), reporting the
    result back through the transition path."""

    SCRIPT = "script"  # INLINE: a JavaScript (or value-param) expression
    CASE_SCRIPT = "case-script"  # SWITCH/DECISION whose case is a script
    LOOP_CONDITION = "loop-condition"  # DO_WHILE's loopCondition after each iteration
    JQ = "jq"
    HTTP = "http"
    SUB_WORKFLOW = "sub-workflow"  # launch the child run
    START_WORKFLOW = "start-workflow"  # launch an independent run


class Lane(StrEnum):
    """Where a runtime's work waits for room (services/lanes.py)."""

    LOCAL = "local"  # work inside the server: the runner's shared concurrency limit
    ISOLATED = "isolated"  # calls out of the server: one lane per TaskDef isolationGroupId


def _always(_workflow_task: JSON) -> bool:
    return True


def _never(_workflow_task: JSON) -> bool:
    return False


def _script_switch(workflow_task: JSON) -> bool:
    return workflow_task.get("evaluatorType") in SCRIPT_EVALUATORS


def _script_decision(workflow_task: JSON) -> bool:
    return workflow_task.get("caseExpression") is not None


# A type that stands for another: the WorkflowTask to schedule instead, or why there is none.
Substitute = Callable[[JSON, JSON], JSON | str]


@dataclass(frozen=True)
class TaskTypeSpec:
    type: TaskType
    shape: Shape
    # Polled by workers from its queue; every other type is run by the server.
    worker: bool = False
    # False for types Conductor knows and this server refuses when a definition is registered.
    supported: bool = True
    # The decider computes its first status and output when it schedules it.
    start: Starter | None = None
    # The service that does its work outside the decider, and where that work waits for room.
    runtime: Runtime | None = None
    lane: Lane | None = None
    # Whether starting a task of this WorkflowTask hands it to its runtime (instead of `start`).
    deferred: Callable[[JSON], bool] = _never
    # Makes its input ready for the runtime when it is deferred (needs the workflow's document).
    prepare: Callable[[TaskState, JSON], None] | None = None
    # Replaced by another WorkflowTask before it is scheduled (DYNAMIC).
    substitute: Substitute | None = None
    # When a join may finish.
    join: JoinRule | None = None
    # What its WorkflowTask must hold, checked when a definition is registered.
    rules: tuple[Rule, ...] = ()
    # The taskType its tasks carry (the type's own name unless set) and whether their
    # taskDefName is that type too, whatever the WorkflowTask's name.
    task_type: str | None = None
    named_by_type: bool = False
    # Part of the flow itself, so never retried (Conductor's DeciderService.retry).
    retried: bool = True


def _flow(
    kind: TaskType,
    shape: Shape,
    start: Starter,
    *,
    join: JoinRule | None = None,
    task_type: str | None = None,
    case_script: Callable[[JSON], bool] | None = None,
    rules: tuple[Rule, ...] = (),
) -> TaskTypeSpec:
    """A flow-control type: its tasks carry the type as their name and are never retried. A
    WorkflowTask for which `case_script` holds has its case evaluated by a script instead."""
    return TaskTypeSpec(
        kind,
        shape,
        start=start,
        runtime=Runtime.CASE_SCRIPT if case_script else None,
        lane=Lane.LOCAL if case_script else None,
        deferred=case_script or _never,
        join=join,
        rules=rules,
        task_type=task_type,
        named_by_type=True,
        retried=False,
    )


def _branch(
    kind: TaskType, start: Starter, case_script: Callable[[JSON], bool], rule: Rule
) -> TaskTypeSpec:
    """SWITCH and DECISION: a case selects one branch."""
    return _flow(kind, Shape.BRANCH, start, case_script=case_script, rules=(task_rules.cases, rule))


def _fork(kind: TaskType, shape: Shape, rule: Rule) -> TaskTypeSpec:
    """Both forks complete as they start (the branches follow) and their tasks carry FORK."""
    return _flow(kind, shape, task_starts.completed, task_type=FORK_TASK_TYPE, rules=(rule,))


def _handed_over(
    kind: TaskType,
    runtime: Runtime,
    *,
    lane: Lane = Lane.LOCAL,
    shape: Shape = Shape.TASK,
    prepare: Callable[[TaskState, JSON], None] | None = None,
    rules: tuple[Rule, ...] = (),
) -> TaskTypeSpec:
    """A type whose work its runtime always does: starting a task hands it over."""
    return TaskTypeSpec(
        kind, shape, runtime=runtime, lane=lane, deferred=_always, prepare=prepare, rules=rules
    )


_SPECS = (
    TaskTypeSpec(TaskType.SIMPLE, Shape.TASK, worker=True),
    _branch(TaskType.SWITCH, task_starts.switch, _script_switch, task_rules.switch),
    _branch(TaskType.DECISION, task_starts.decision, _script_decision, task_rules.decision),
    _fork(TaskType.FORK_JOIN, Shape.FORK, task_rules.fork),
    _fork(TaskType.FORK_JOIN_DYNAMIC, Shape.DYNAMIC_FORK, task_rules.dynamic_fork),
    _flow(TaskType.JOIN, Shape.JOIN, task_starts.join, join=join_outcome, rules=(task_rules.join,)),
    _flow(TaskType.EXCLUSIVE_JOIN, Shape.JOIN, task_starts.join, join=exclusive_join_outcome),
    TaskTypeSpec(
        TaskType.DO_WHILE,
        Shape.LOOP,
        start=task_starts.in_progress,
        runtime=Runtime.LOOP_CONDITION,
        lane=Lane.LOCAL,
        rules=(task_rules.do_while,),
        retried=False,
    ),
    _handed_over(
        TaskType.SUB_WORKFLOW,
        Runtime.SUB_WORKFLOW,
        shape=Shape.SUB_WORKFLOW,
        prepare=task_starts.prepare_sub_workflow,
        rules=(task_rules.sub_workflow,),
    ),
    _handed_over(TaskType.START_WORKFLOW, Runtime.START_WORKFLOW),
    _handed_over(TaskType.INLINE, Runtime.SCRIPT),
    _handed_over(TaskType.JSON_JQ_TRANSFORM, Runtime.JQ, rules=(task_rules.jq,)),
    _handed_over(
        TaskType.HTTP,
        Runtime.HTTP,
        lane=Lane.ISOLATED,
        prepare=task_starts.prepare_http,
        rules=(task_rules.http,),
    ),
    TaskTypeSpec(TaskType.SET_VARIABLE, Shape.TASK, start=task_starts.set_variable),
    TaskTypeSpec(
        TaskType.TERMINATE,
        Shape.TERMINATE,
        start=task_starts.terminate,
        rules=(task_rules.terminate,),
    ),
    TaskTypeSpec(TaskType.NOOP, Shape.TASK, start=task_starts.completed),
    TaskTypeSpec(TaskType.HUMAN, Shape.TASK, start=task_starts.in_progress),
    TaskTypeSpec(TaskType.EVENT, Shape.TASK, start=task_starts.event, rules=(task_rules.event,)),
    TaskTypeSpec(TaskType.WAIT, Shape.WAIT, start=task_starts.wait, rules=(task_rules.wait,)),
    TaskTypeSpec(
        TaskType.DYNAMIC, Shape.TASK, substitute=task_starts.dynamic, rules=(task_rules.dynamic,)
    ),
    TaskTypeSpec(TaskType.LAMBDA, Shape.TASK, supported=False),
    TaskTypeSpec(TaskType.KAFKA_PUBLISH, Shape.TASK, supported=False),
)

TASK_TYPES: dict[str, TaskTypeSpec] = {spec.type.value: spec for spec in _SPECS}
_WORKER = TASK_TYPES[TaskType.SIMPLE]


# The join rule of each taskType that has one (the decider looks for joins on every pass).
JOIN_RULES: dict[str, JoinRule] = {
    spec.task_type or spec.type.value: spec.join for spec in _SPECS if spec.join is not None
}


def spec_of(workflow_task: JSON) -> TaskTypeSpec:
    """The spec of a WorkflowTask's type; a type not in the table is a worker task. (On every
    decider path, so one dict lookup: `type` absent, empty or unknown all mean a worker task.)"""
    try:
        return TASK_TYPES.get(workflow_task.get("type"), _WORKER)  # type: ignore[arg-type]
    except TypeError:  # an unhashable type: registration refuses it, so none is ever stored
        return _WORKER


def is_worker_task(workflow_task: JSON) -> bool:
    return spec_of(workflow_task).worker


def is_system_type(type_name: str) -> bool:
    """Whether tasks of this type are run by the server (supported here or not)."""
    spec = TASK_TYPES.get(type_name)
    return spec is not None and not spec.worker
