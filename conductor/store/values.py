"""The small values store functions return: callers above the store never see database rows."""

from __future__ import annotations

from dataclasses import dataclass

from conductor.engine.model import JSON, TaskState
from conductor.roles import Role


@dataclass(frozen=True)
class StoredTask:
    """A task as read from its row: the attempt, and the copies of its workflow's fields that it
    carries so that a poll or a task read needs no join."""

    task: TaskState
    workflow_type: str | None
    correlation_id: str | None
    workflow_priority: int
    # When a claim took it: the time it had become pollable (epoch ms).
    ready_at: int | None = None


@dataclass(frozen=True)
class PollRecord:
    """The last poll of a queue (Conductor's PollData)."""

    queue_name: str
    domain: str | None
    worker_id: str | None
    last_poll_time: int


@dataclass(frozen=True)
class QueuedMessage:
    """A message on a `conductor` queue, taken by the event processor."""

    id: int
    queue: str
    message_id: str
    payload: JSON
    created_time: int


@dataclass(frozen=True)
class DueSchedule:
    """A schedule whose next fire time has come."""

    name: str
    body: JSON
    next_run_time: int


@dataclass(frozen=True)
class ActiveSchedule:
    """An unpaused schedule and its stored next fire time (None: no run is pending)."""

    name: str
    body: JSON
    next_run_time: int | None


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never its secret, only the secret's hash."""

    key_id: str
    name: str
    role: Role
    secret_hash: str
    generation: int
    task_types: frozenset[str] | None
    domains: frozenset[str] | None
    created_ms: int
    last_used_ms: int | None
    revoked_ms: int | None

    @property
    def active(self) -> bool:
        return self.revoked_ms is None


@dataclass(frozen=True)
class AuditEntry:
    id: int | None  # None until stored
    at_ms: int
    principal: str
    role: str
    action: str
    target: str
    status: int
    via: str = "api"  # "ui" for the web UI's requests
    workflow_ids: tuple[str, ...] = ()  # the workflows the action touched
