"""`conductor keys`: create, list, rotate and revoke API keys, straight in the database.

It reaches the database the way the server does (CONDUCTOR_DATABASE_URL, or the embedded one in
the data folder, shared with a running server), so it works before any key exists, which is how
the first admin key is made. Running servers pick changes up within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from conductor.clock import SystemClock
from conductor.config import Settings
from conductor.errors import ConductorError
from conductor.services.api_keys import IssuedKey, KeyAdmin, parse_role
from conductor.store.embedded import EmbeddedPostgres
from conductor.store.migrate import migrate
from conductor.store.pool import create_pool
from conductor.store.values import ApiKey
from conductor.wire.api_keys import issued_key_json, key_json


def add_parser(commands: Any) -> None:
    keys = commands.add_parser(
        "keys", help="manage API keys (authentication is on once one exists)"
    )
    keys.add_argument("--database-url", help="PostgreSQL URL (CONDUCTOR_DATABASE_URL)")
    keys.add_argument("--data-dir", help="embedded PostgreSQL data folder (CONDUCTOR_DATA_DIR)")
    keys.add_argument("--json", action="store_true", help="print JSON instead of text")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key; its secret is printed once")
    create.add_argument("--role", required=True, help="admin, operator, worker or viewer")
    create.add_argument("--name", default="", help="what the key is for")
    create.add_argument(
        "--task-type", action="append", dest="task_types", help="worker keys: only this type"
    )
    create.add_argument(
        "--domain", action="append", dest="domains", help="worker keys: only this domain"
    )
    listing = actions.add_parser("list", help="every key, its role and when it was last used")
    rotate = actions.add_parser("rotate", help="a new secret for a key; the old one stops working")
    rotate.add_argument("key_id")
    revoke = actions.add_parser("revoke", help="stop a key working")
    revoke.add_argument("key_id")
    for action in (create, listing, rotate, revoke):
        # Also after the action (`conductor keys list --json`); absent there, the one before wins.
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(database_url=args.database_url, data_dir=args.data_dir)
    try:
        output = asyncio.run(_act(settings, args))
    except ConductorError as exc:
        print(f"conductor keys: {exc.message}")
        return 1
    print(output)
    return 0


@asynccontextmanager
async def _key_admin(settings: Settings) -> AsyncIterator[KeyAdmin]:
    embedded = None
    dsn = settings.database_url
    if dsn is None:
        # Attaches to the server already running in the folder, if there is one.
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    try:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            yield KeyAdmin(pool, SystemClock())
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _act(settings: Settings, args: argparse.Namespace) -> str:
    async with _key_admin(settings) as admin:
        if args.action == "create":
            issued = await admin.create(
                parse_role(args.role),
                name=args.name,
                task_types=args.task_types,
                domains=args.domains,
            )
            return _issued(issued, args.json)
        if args.action == "rotate":
            return _issued(await admin.rotate(args.key_id), args.json)
        if args.action == "revoke":
            key = await admin.revoke(args.key_id)
            return json.dumps(key_json(key)) if args.json else f"revoked {key.key_id}"
        keys = await admin.keys()
        if args.json:
            return json.dumps([key_json(key) for key in keys], indent=2)
        return _table(keys)


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _issued(issued: IssuedKey, as_json: bool) -> str:
    if as_json:
        return json.dumps(issued_key_json(issued.key, issued.secret))
    key = issued.key
    return "\n".join(
        [
            f"key id:     {key.key_id}",
            f"key secret: {issued.secret}",
            f"role:       {key.role.value}",
            "The secret is shown only now. Clients read it from the environment:",
            f"  export CONDUCTOR_AUTH_KEY={key.key_id}",
            f"  export CONDUCTOR_AUTH_SECRET={issued.secret}",
        ]
    )


def _table(keys: list[ApiKey]) -> str:
    if not keys:
        return "no keys: authentication is off"
    header = ("KEY ID", "NAME", "ROLE", "SCOPE", "CREATED", "LAST USED", "STATE")
    rows = [header]
    for key in keys:
        scope = ",".join(sorted(key.task_types or [])) or "*"
        if key.domains is not None:
            scope += "@" + ",".join(sorted(key.domains))
        state = "active" if key.active else f"revoked {_time(key.revoked_ms)}"
        rows.append(
            (
                key.key_id,
                key.name or "-",
                key.role.value,
                scope,
                _time(key.created_ms),
                _time(key.last_used_ms),
                state,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
