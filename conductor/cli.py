"""The `conductor` command.

`conductor server [--host H] [--port P] [--database-url URL] [--data-dir DIR]`
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from aiohttp import web

from conductor.app import create_app
from conductor.clock import JumpingClock
from conductor.config import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conductor", description="Conductor-compatible server")
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="run the API server (port 8080 by default)")
    server.add_argument("--host", help="bind address (CONDUCTOR_HOST, default 0.0.0.0)")
    server.add_argument("--port", type=int, help="port (CONDUCTOR_PORT, default 8080)")
    server.add_argument(
        "--database-url",
        help="PostgreSQL URL (CONDUCTOR_DATABASE_URL); without it an embedded server is used",
    )
    server.add_argument(
        "--data-dir",
        type=Path,
        help="embedded PostgreSQL data folder (CONDUCTOR_DATA_DIR, default ./.conductor-data)",
    )
    server.add_argument(
        "--retention-days",
        type=float,
        help="remove finished workflows older than this (CONDUCTOR_RETENTION_DAYS; default keep)",
    )
    server.add_argument(
        "--retention-archive",
        action="store_true",
        default=None,
        help="copy each removed workflow into workflow_archive (CONDUCTOR_RETENTION_ARCHIVE)",
    )
    server.add_argument(
        "--virtual-clock",
        action="store_true",
        default=None,
        help="dev only: when nothing can run, jump the clock to the next timer or schedule",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            data_dir=args.data_dir,
            virtual_clock=args.virtual_clock,
            retention_days=args.retention_days,
            retention_archive=args.retention_archive,
        )
        app = create_app(settings, clock=JumpingClock() if settings.virtual_clock else None)
    except SettingsError as exc:
        print(f"conductor: {exc}", file=sys.stderr)
        return 2
    web.run_app(
        app,
        loop=_event_loop(),
        host=settings.host,
        port=settings.port,
        # Within the 10 s that supervisors (docker stop, systemd) give before SIGKILL.
        shutdown_timeout=5,
        print=None,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
    )
    return 0


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where available: the event loop's own overhead is a large share of a busy server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


if __name__ == "__main__":
    sys.exit(main())
