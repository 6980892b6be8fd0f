"""Who may do what: roles, the permissions they grant, and the principal behind a request.

A route declares the one permission it needs (conductor/api/permissions.py); a key's role grants a
set of them. Kept free of I/O so the API, the UI and the CLI share one reading of each role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not: health checks, metrics, signing in
    READ = "read"  # definitions, executions, queues
    WORK = "work"  # poll, acknowledge and update tasks, append task logs
    OPERATE = "operate"  # start and act on workflows, change definitions, schedules, handlers
    ADMIN = "admin"  # API keys and the audit trail


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    WORKER = "worker"
    VIEWER = "viewer"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {Permission.PUBLIC, Permission.READ, Permission.WORK, Permission.OPERATE}
    ),
    Role.WORKER: frozenset({Permission.PUBLIC, Permission.WORK}),
    Role.VIEWER: frozenset({Permission.PUBLIC, Permission.READ}),
}


@dataclass(frozen=True)
class Principal:
    """A key's identity and reach. `task_types`/`domains` of None mean "any"."""

    name: str
    role: Role
    task_types: frozenset[str] | None = None
    domains: frozenset[str] | None = None

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    @property
    def scoped(self) -> bool:
        return self.task_types is not None or self.domains is not None

    def may_work_on(self, task_type: str, domain: str | None) -> bool:
        """Whether this key may poll or complete a task of `task_type` in `domain`.

        A key limited to domains reaches only tasks in one of them, not the default queue.
        """
        if self.task_types is not None and task_type not in self.task_types:
            return False
        return self.domains is None or (domain is not None and domain in self.domains)


# The caller when authentication is off: no keys exist, so everyone may do everything.
ANONYMOUS = Principal("anonymous", Role.ADMIN)
