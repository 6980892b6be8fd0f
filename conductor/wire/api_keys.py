"""The JSON shape of an API key, for the admin API and `conductor keys --json`: never its hash."""

from __future__ import annotations

from typing import Any

from conductor.store.values import ApiKey


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "keyId": key.key_id,
        "name": key.name,
        "role": key.role.value,
        "taskTypes": None if key.task_types is None else sorted(key.task_types),
        "domains": None if key.domains is None else sorted(key.domains),
        "createdTime": key.created_ms,
        "lastUsedTime": key.last_used_ms,
        "revokedTime": key.revoked_ms,
        "active": key.active,
    }


def issued_key_json(key: ApiKey, secret: str) -> dict[str, Any]:
    """A key as it is made or rotated: the only answer that carries its secret."""
    return {**key_json(key), "keySecret": secret}
