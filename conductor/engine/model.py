"""Plain values the decider works on: statuses, task and workflow state, task-definition settings.

Definitions (WorkflowDef, WorkflowTask, TaskDef) stay as the JSON dicts Conductor clients send, so
that every field round-trips unchanged; `TaskSettings` reads the few fields the decider needs with
Conductor's defaults. Times are epoch milliseconds, as on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

JSON = dict[str, Any]


class TaskStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    CANCELED = "CANCELED"

    # Sets, not tuples: these run on every decider pass, and a tuple compares by value.
    @property
    def terminal(self) -> bool:
        return self not in _PENDING_TASK

    @property
    def successful(self) -> bool:
        return self in _SUCCESSFUL_TASK

    @property
    def retriable(self) -> bool:
        return self not in _NOT_RETRIABLE


_PENDING_TASK = frozenset({TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS})
_NOT_RETRIABLE = frozenset(
    {TaskStatus.SKIPPED, TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.CANCELED}
)
_SUCCESSFUL_TASK = frozenset(
    {
        TaskStatus.SCHEDULED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.COMPLETED_WITH_ERRORS,
        TaskStatus.SKIPPED,
    }
)

# Statuses a worker may report in a TaskResult.
RESULT_STATUSES = frozenset(
    {
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.FAILED_WITH_TERMINAL_ERROR,
        TaskStatus.CANCELED,
    }
)


class WorkflowStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"

    @property
    def terminal(self) -> bool:
        return self not in _OPEN_WORKFLOW

    @property
    def successful(self) -> bool:
        return self in _SUCCESSFUL_WORKFLOW


_OPEN_WORKFLOW = frozenset({WorkflowStatus.RUNNING, WorkflowStatus.PAUSED})
_SUCCESSFUL_WORKFLOW = _OPEN_WORKFLOW | {WorkflowStatus.COMPLETED}


class TaskType(StrEnum):
    """The WorkflowTask types Conductor defines (engine/task_types.py says what each one does).
    Any other type name is a worker task polled under that name, like SIMPLE."""

    SIMPLE = "SIMPLE"
    SWITCH = "SWITCH"
    DECISION = "DECISION"
    FORK_JOIN = "FORK_JOIN"
    FORK_JOIN_DYNAMIC = "FORK_JOIN_DYNAMIC"
    JOIN = "JOIN"
    EXCLUSIVE_JOIN = "EXCLUSIVE_JOIN"
    DO_WHILE = "DO_WHILE"
    SUB_WORKFLOW = "SUB_WORKFLOW"
    START_WORKFLOW = "START_WORKFLOW"
    INLINE = "INLINE"
    LAMBDA = "LAMBDA"
    JSON_JQ_TRANSFORM = "JSON_JQ_TRANSFORM"
    SET_VARIABLE = "SET_VARIABLE"
    TERMINATE = "TERMINATE"
    NOOP = "NOOP"
    HUMAN = "HUMAN"
    DYNAMIC = "DYNAMIC"
    HTTP = "HTTP"
    EVENT = "EVENT"
    WAIT = "WAIT"
    KAFKA_PUBLISH = "KAFKA_PUBLISH"


def loop_ref(ref: str, iteration: int) -> str:
    """Inside a DO_WHILE, iteration N of a task is named `<ref>__N`."""
    return f"{ref}__{iteration}" if iteration > 0 else ref


def base_ref(ref: str) -> str:
    """A task's reference without its DO_WHILE iteration suffix (`ref__3` -> `ref`)."""
    head, sep, tail = ref.rpartition("__")
    return head if sep and tail.isdigit() else ref


def task_type_of(workflow_task: JSON) -> str:
    """A WorkflowTask's type as written (SIMPLE when absent): a TaskType or a worker's own name."""
    return str(workflow_task.get("type") or TaskType.SIMPLE)


class RetryLogic(StrEnum):
    FIXED = "FIXED"
    LINEAR_BACKOFF = "LINEAR_BACKOFF"
    EXPONENTIAL_BACKOFF = "EXPONENTIAL_BACKOFF"


class TimeoutPolicy(StrEnum):
    RETRY = "RETRY"
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


# Conductor's TaskDef defaults (common/.../metadata/tasks/TaskDef.java).
TASK_DEF_DEFAULTS: JSON = {
    "retryCount": 3,
    "retryLogic": "FIXED",
    "retryDelaySeconds": 60,
    "backoffScaleFactor": 1,
    "maxRetryDelaySeconds": 0,
    "backoffJitterMs": 0,
    "timeoutSeconds": 0,
    "totalTimeoutSeconds": 0,
    "timeoutPolicy": "TIME_OUT_WF",
    "responseTimeoutSeconds": 3600,
    "rateLimitPerFrequency": 0,
    "rateLimitFrequencyInSeconds": 1,
    "inputKeys": [],
    "outputKeys": [],
    "inputTemplate": {},
    "taskStatusListenerEnabled": True,
    "enforceSchema": False,
}


def _int(value: Any, default: int) -> int:
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class TaskSettings:
    """The TaskDef fields that drive retries and timeouts, with Conductor's defaults applied."""

    retry_count: int = 3
    retry_logic: RetryLogic = RetryLogic.FIXED
    retry_delay_seconds: int = 60
    backoff_scale_factor: int = 1
    max_retry_delay_seconds: int = 0
    backoff_jitter_ms: int = 0
    timeout_seconds: int = 0
    total_timeout_seconds: int = 0
    timeout_policy: TimeoutPolicy = TimeoutPolicy.TIME_OUT_WF
    response_timeout_seconds: int = 3600
    poll_timeout_seconds: int = 0

    @classmethod
    def from_def(cls, task_def: JSON | None) -> TaskSettings:
        if not task_def:
            return _NO_TASK_DEF
        # Every task loaded from a row parses its TaskDef again; most share a handful of them.
        key = tuple(task_def.get(name) for name in _SETTINGS_FIELDS)
        if True in map(_is_bool, key):  # True == 1 as a key, but _int ignores booleans
            return cls._parse(task_def)
        try:
            return _settings_cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable (so invalid) value: parse without caching
            return cls._parse(task_def)
        if len(_settings_cache) >= _SETTINGS_CACHE_SIZE:
            _settings_cache.clear()
        settings = _settings_cache[key] = cls._parse(task_def)
        return settings

    @classmethod
    def _parse(cls, task_def: JSON) -> TaskSettings:
        d = TASK_DEF_DEFAULTS
        return cls(
            retry_count=_int(task_def.get("retryCount"), d["retryCount"]),
            retry_logic=RetryLogic(task_def.get("retryLogic") or "FIXED"),
            retry_delay_seconds=_int(task_def.get("retryDelaySeconds"), d["retryDelaySeconds"]),
            backoff_scale_factor=_int(task_def.get("backoffScaleFactor"), 1),
            max_retry_delay_seconds=_int(task_def.get("maxRetryDelaySeconds"), 0),
            backoff_jitter_ms=_int(task_def.get("backoffJitterMs"), 0),
            timeout_seconds=_int(task_def.get("timeoutSeconds"), 0),
            total_timeout_seconds=_int(task_def.get("totalTimeoutSeconds"), 0),
            timeout_policy=TimeoutPolicy(task_def.get("timeoutPolicy") or "TIME_OUT_WF"),
            response_timeout_seconds=_int(
                task_def.get("responseTimeoutSeconds"), d["responseTimeoutSeconds"]
            ),
            poll_timeout_seconds=_int(task_def.get("pollTimeoutSeconds"), 0),
        )


_NO_TASK_DEF = TaskSettings(retry_count=0, response_timeout_seconds=0)
_SETTINGS_FIELDS = (
    "retryCount",
    "retryLogic",
    "retryDelaySeconds",
    "backoffScaleFactor",
    "maxRetryDelaySeconds",
    "backoffJitterMs",
    "timeoutSeconds",
    "totalTimeoutSeconds",
    "timeoutPolicy",
    "responseTimeoutSeconds",
    "pollTimeoutSeconds",
)
_SETTINGS_CACHE_SIZE = 4096


def _is_bool(value: Any) -> bool:
    return type(value) is bool


_settings_cache: dict[tuple[Any, ...], TaskSettings] = {}


@dataclass
class TaskState:
    """One task attempt of a workflow execution (Conductor's TaskModel)."""

    task_id: str
    workflow_id: str
    task_type: str
    task_def_name: str
    ref_name: str
    seq: int
    workflow_task: JSON
    status: TaskStatus = TaskStatus.SCHEDULED
    retry_count: int = 0
    poll_count: int = 0
    input_data: JSON = field(default_factory=dict)
    output_data: JSON = field(default_factory=dict)
    scheduled_time: int = 0
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    first_scheduled_time: int = 0
    start_delay_seconds: int = 0
    callback_after_seconds: int = 0
    response_timeout_seconds: int = 0
    worker_id: str | None = None
    reason_for_incompletion: str | None = None
    retried_task_id: str | None = None
    retried: bool = False
    executed: bool = False
    domain: str | None = None
    queue_name: str | None = None
    iteration: int = 0
    # DO_WHILE: the iteration whose loopCondition is being evaluated outside the decider (0: none).
    awaiting_iteration: int = 0
    # WAIT: when it completes by itself (epoch ms; 0: only an external update completes it).
    wait_until: int = 0

    @cached_property
    def settings(self) -> TaskSettings:
        """Read once per task: its workflow_task (and so its TaskDef) never changes."""
        task_def = self.workflow_task.get("taskDefinition")
        return TaskSettings.from_def(task_def if isinstance(task_def, dict) else None)

    @property
    def optional(self) -> bool:
        return bool(self.workflow_task.get("optional"))


@dataclass
class WorkflowState:
    """A workflow execution with all its task attempts, as loaded inside one transition."""

    workflow_id: str
    definition: JSON
    status: WorkflowStatus
    create_time: int
    input: JSON = field(default_factory=dict)
    output: JSON = field(default_factory=dict)
    variables: JSON = field(default_factory=dict)
    task_to_domain: JSON = field(default_factory=dict)
    correlation_id: str | None = None
    priority: int = 0
    update_time: int = 0
    end_time: int = 0
    last_retried_time: int = 0
    reason_for_incompletion: str | None = None
    failed_reference_task_names: list[str] = field(default_factory=list)
    failed_task_names: list[str] = field(default_factory=list)
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None
    created_by: str | None = None
    idempotency_key: str | None = None
    tasks: list[TaskState] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.definition.get("name", ""))

    @property
    def version(self) -> int:
        return _int(self.definition.get("version"), 1)

    def task(self, task_id: str) -> TaskState | None:
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        return None

    def pending_task(
        self,
        *,
        task_id: str | None = None,
        ref: str | None = None,
        scheduled_by: int | None = None,
    ) -> TaskState | None:
        """The unfinished task an external update names: by id; else by reference (exactly, or
        a loop iteration's without its suffix); with neither, the first unfinished WAIT. With
        `scheduled_by`, only tasks scheduled by then count, so a message handled twice (after a
        crash) cannot reach the next attempt or iteration."""
        for task in sorted(self.tasks, key=lambda t: t.seq):
            if task.status.terminal:
                continue
            if scheduled_by is not None and task.scheduled_time > scheduled_by:
                continue
            if task_id is not None:
                if task.task_id == task_id:
                    return task
            elif ref is not None:
                if ref in (task.ref_name, base_ref(task.ref_name)):
                    return task
            elif task.task_type == TaskType.WAIT:
                return task
        return None
