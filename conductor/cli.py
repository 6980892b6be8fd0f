"""The `conductor` command.

`conductor server [--host H] [--port P] [--database-url URL] [--data-dir DIR] [--processes N] ...`
`conductor keys create|list|rotate|revoke ...` (conductor/cli_keys.py)
`conductor db migrate` (conductor/cli_db.py)
`conductor workflow|def|queue|schedule ...` against a running server (conductor/cli_client/)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import ssl
import sys
from importlib import metadata
from pathlib import Path

from aiohttp import web

from conductor import cli_db, cli_keys, logs, preflight, processes
from conductor.app import create_app
from conductor.cli_client import commands as client_commands
from conductor.clock import JumpingClock
from conductor.config import Settings
from conductor.errors import StartupRefused
from conductor.wiring import egress_policy

DISTRIBUTION = "conductor-py-server"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conductor", description="Conductor-compatible server")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metadata.version(DISTRIBUTION)}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="run the API server (port 8080 by default)")
    server.add_argument(
        "--host",
        help="bind address (CONDUCTOR_HOST, default 127.0.0.1; another address needs API keys"
        " or --insecure-no-auth)",
    )
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
        "--processes",
        type=int,
        help="server processes sharing the port, one core each (CONDUCTOR_PROCESSES, default 1;"
        " see docs/scaling.md)",
    )
    # Given by the supervisor of `--processes N` to the processes it starts (processes.py).
    server.add_argument("--supervisor-pid", type=int, help=argparse.SUPPRESS)
    server.add_argument(
        "--supervisor-embedded", action="store_true", default=None, help=argparse.SUPPRESS
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
        "--insecure-no-auth",
        action="store_true",
        default=None,
        help="allow a non-loopback --host with no API keys: anyone who reaches it can do"
        " anything (CONDUCTOR_INSECURE_NO_AUTH)",
    )
    server.add_argument(
        "--log-level",
        type=str.upper,
        choices=logs.LEVELS,
        help="log level (CONDUCTOR_LOG_LEVEL, default INFO; DEBUG shows the embedded database's"
        " output)",
    )
    server.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="text lines or one JSON object per line (CONDUCTOR_LOG_FORMAT, default text)",
    )
    server.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate")
    server.add_argument("--tls-key", type=Path, help="the certificate's PEM private key")
    server.add_argument(
        "--virtual-clock",
        action="store_true",
        default=None,
        help="dev only: when nothing can run, jump the clock to the next timer or schedule",
    )
    cli_keys.add_parser(commands)
    cli_db.add_parser(commands)
    client_commands.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.command in client_commands.GROUPS:
        return client_commands.run(args)
    if args.command == "db":
        logs.configure("WARNING")
        return cli_db.run(args)
    if args.command == "keys":
        # `keys` prints what the user asked for; the embedded database's chatter would bury it.
        logs.configure("WARNING")
        return cli_keys.run(args)
    try:
        logs.configure(
            args.log_level or os.environ.get("CONDUCTOR_LOG_LEVEL", "INFO"),
            args.log_format or os.environ.get("CONDUCTOR_LOG_FORMAT", "text"),
            # The processes of `--processes N` share one stderr: each line says whose it is.
            with_pid=args.supervisor_pid is not None,
        )
    except ValueError as exc:
        print(f"conductor: {exc}", file=sys.stderr)
        return 2
    return _serve(args, argv)


def _serve(args: argparse.Namespace, argv: list[str]) -> int:
    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            data_dir=args.data_dir,
            processes=args.processes,
            supervisor_pid=args.supervisor_pid,
            supervisor_embedded=args.supervisor_embedded,
            virtual_clock=args.virtual_clock,
            retention_days=args.retention_days,
            retention_archive=args.retention_archive,
            insecure_no_auth=args.insecure_no_auth,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
        processes.check(settings)
        tls = _tls_context(settings)
        preflight.run(settings)
        if settings.processes > 1:
            # Settings each process would refuse, refused once, before anything starts.
            egress_policy(settings)
            return processes.serve(settings, argv)
        if settings.supervisor_pid is not None:
            processes.stop_with_supervisor(settings.supervisor_pid)
        app = create_app(settings, clock=JumpingClock() if settings.virtual_clock else None)
        web.run_app(
            app,
            loop=_event_loop(),
            host=settings.host,
            port=settings.port,
            ssl_context=tls,
            # Within the 10 s that supervisors (docker stop, systemd) give before SIGKILL.
            shutdown_timeout=5,
            # aiohttp calls this once the port is bound.
            print=lambda _aiohttp_banner: _log_listening(settings, tls is not None),
            access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
            # The processes of `--processes N` listen on one port; the kernel spreads
            # connections over them.
            reuse_port=True if settings.supervisor_pid is not None else None,
        )
    except StartupRefused as exc:
        print(f"conductor: {exc}", file=sys.stderr)
        return 2
    return 0


def _log_listening(settings: Settings, https: bool) -> None:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"{'https' if https else 'http'}://{host}:{settings.port}"
    database = (
        preflight.mask_password(settings.database_url)
        if settings.database_url
        else f"embedded PostgreSQL in {settings.data_dir.expanduser().resolve()}"
    )
    logging.getLogger("conductor").info(
        "listening on %s (API %s/api, UI %s/), database %s, version %s",
        url,
        url,
        url,
        database,
        metadata.version(DISTRIBUTION),
    )


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None and settings.tls_key is None:
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise StartupRefused("--tls-cert and --tls-key go together: give both or neither")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise StartupRefused(f"cannot load the TLS certificate or key: {exc}") from None
    return context


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where available: the event loop's own overhead is a large share of a busy server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


if __name__ == "__main__":
    sys.exit(main())
