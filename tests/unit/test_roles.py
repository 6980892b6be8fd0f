"""Roles grant permissions; worker keys may be limited to task types and domains."""

from __future__ import annotations

import pytest

from conductor.config import Settings
from conductor.roles import ANONYMOUS, GRANTS, Permission, Principal, Role


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (Role.ADMIN, {"public", "read", "work", "operate", "admin"}),
        (Role.OPERATOR, {"public", "read", "work", "operate"}),
        (Role.WORKER, {"public", "work"}),
        (Role.VIEWER, {"public", "read"}),
    ],
)
def test_each_role_grants(role: Role, granted: set[str]) -> None:
    assert {p.value for p in GRANTS[role]} == granted
    principal = Principal("k", role)
    assert {p.value for p in Permission if principal.may(p)} == granted


def test_only_admins_manage_keys() -> None:
    assert [role for role in Role if Permission.ADMIN in GRANTS[role]] == [Role.ADMIN]


def test_an_unscoped_key_works_on_anything() -> None:
    worker = Principal("k", Role.WORKER)
    assert not worker.scoped
    assert worker.may_work_on("charge", None) and worker.may_work_on("refund", "eu")


def test_task_type_and_domain_scopes() -> None:
    charge = Principal("k", Role.WORKER, task_types=frozenset({"charge"}))
    assert charge.scoped
    assert charge.may_work_on("charge", None) and charge.may_work_on("charge", "eu")
    assert not charge.may_work_on("refund", None)
    eu = Principal("k", Role.WORKER, domains=frozenset({"eu"}))
    assert eu.may_work_on("charge", "eu")
    assert not eu.may_work_on("charge", "us")
    assert not eu.may_work_on("charge", None)  # the default queue is outside every domain


def test_anonymous_is_everything_when_authentication_is_off() -> None:
    assert all(ANONYMOUS.may(p) for p in Permission)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("conductor.internal", False),
    ],
)
def test_loopback_binds(host: str, loopback: bool) -> None:
    assert Settings(host=host).loopback_only is loopback


def test_the_default_bind_is_loopback() -> None:
    assert Settings().loopback_only
