"""Each route handler declares the permission it needs (conductor/roles.py), next to its code.

A handler without a declaration is reachable by admins only, and a test walks the route table
to make sure every route has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from conductor.roles import Permission

_ATTRIBUTE = "_conductor_access"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    permission: Permission
    # Operator and admin actions that change something are written to the audit trail (and
    # the completion of a task by reference, which is how people signal HUMAN and WAIT tasks).
    audited: bool = False


ADMIN_ONLY = Access(Permission.ADMIN)


def requires(permission: Permission, *, audited: bool = False) -> Callable[[F], F]:
    def declare(handler: F) -> F:
        setattr(handler, _ATTRIBUTE, Access(permission, audited))
        return handler

    return declare


def access_of(handler: object) -> Access | None:
    found = getattr(handler, _ATTRIBUTE, None)
    return found if isinstance(found, Access) else None
