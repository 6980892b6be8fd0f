"""Keys and tokens for tests that run with authentication on."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from conductor.api.keys import KEY_ADMIN
from conductor.roles import Role
from conductor.services.api_keys import IssuedKey


async def make_key(client, role: Role, **scope: Any) -> IssuedKey:
    return await client.server.app[KEY_ADMIN].create(role, **scope)


async def token_for(client, issued: IssuedKey) -> str:
    response = await client.post(
        "/api/token", json={"keyId": issued.key.key_id, "keySecret": issued.secret}
    )
    assert response.status == 200, await response.text()
    return (await response.json())["token"]


def auth(token: str) -> dict[str, str]:
    return {"X-Authorization": token}


def unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` and no signature, as an attacker would forge one."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
