"""Authentication on for a bench: an admin key made in the database, and the token for it.

The bench's own requests send the token; the `workers` library reads the key from
CONDUCTOR_AUTH_KEY/SECRET like the official SDKs, and fetches its own token.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import asyncpg

from conductor.clock import SystemClock
from conductor.roles import Role
from conductor.services.api_keys import KeyAdmin

_PICKUP_S = 15.0


async def enable(dsn: str, api: str) -> str:
    """Make an admin key, wait until the server accepts it, export it; the token."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        issued = await KeyAdmin(pool, SystemClock()).create(Role.ADMIN, name="bench")
    finally:
        await pool.close()
    os.environ["CONDUCTOR_AUTH_KEY"] = issued.key.key_id
    os.environ["CONDUCTOR_AUTH_SECRET"] = issued.secret
    body = {"keyId": issued.key.key_id, "keySecret": issued.secret}
    deadline = time.monotonic() + _PICKUP_S
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.post(f"{api}/token", json=body) as resp:
                if resp.status == 200:
                    return str((await resp.json())["token"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not accept the key within {_PICKUP_S} s")
            await asyncio.sleep(0.1)  # the server reloads keys every 2 s
