"""`conductor db migrate`: apply the schema migrations without starting a server.

For deployments that migrate in a separate step (a release job, an init container) before the
servers roll; servers still apply whatever is pending at start, under the same advisory lock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import asyncpg

from conductor import preflight
from conductor.errors import StartupRefused
from conductor.store.migrate import migrate


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("db", help="database maintenance")
    actions = parser.add_subparsers(dest="action", required=True)
    migrate_parser = actions.add_parser(
        "migrate", help="apply pending schema migrations to the server's database"
    )
    migrate_parser.add_argument(
        "--database-url", help="PostgreSQL URL (CONDUCTOR_DATABASE_URL); required"
    )


def run(args: argparse.Namespace) -> int:
    url = args.database_url or os.environ.get("CONDUCTOR_DATABASE_URL")
    if not url:
        print(
            "conductor db migrate: give the database with --database-url or"
            " CONDUCTOR_DATABASE_URL (an embedded database is migrated by the server itself)",
            file=sys.stderr,
        )
        return 2
    try:
        preflight.check_database_reachable(url)
        applied = asyncio.run(_migrate(url))
    except StartupRefused as exc:
        print(f"conductor db migrate: {exc}", file=sys.stderr)
        return 2
    except asyncpg.PostgresError as exc:
        print(f"conductor db migrate: the migration failed: {exc}", file=sys.stderr)
        return 1
    target = preflight.mask_password(url)
    if applied:
        print(f"applied {len(applied)} migrations to {target}: {', '.join(applied)}")
    else:
        print(f"{target} is up to date")
    return 0


async def _migrate(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return await migrate(connection)
    finally:
        await connection.close()
