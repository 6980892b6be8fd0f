"""Checks made before the server sets anything up: a busy port or an unreachable database is
reported in one line within a couple of seconds, before an embedded database is initialised
or a data folder is created."""

from __future__ import annotations

import asyncio
import errno
import socket

import asyncpg

from conductor.config import Settings
from conductor.errors import StartupRefused

DATABASE_CHECK_TIMEOUT_S = 1.5


def check_port_free(host: str, port: int) -> None:
    """Refuse to start when something already listens on the port. Binds as the server will,
    without SO_REUSEPORT, so another program's socket is found even if it set that option."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise StartupRefused(f"cannot resolve --host {host!r}: {exc}") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            # As asyncio binds: a port whose old connections are in TIME_WAIT counts as free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise StartupRefused(
                        f"port {port} on {host} is already in use: stop what listens there"
                        " or choose another with --port (CONDUCTOR_PORT)"
                    ) from None
                raise StartupRefused(
                    f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                ) from None


def check_database_reachable(url: str) -> None:
    """Open and close one connection to the configured database, with a short deadline."""
    try:
        asyncio.run(_connect_once(url))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {DATABASE_CHECK_TIMEOUT_S} s"
        raise StartupRefused(
            f"cannot connect to the database at {mask_password(url)}: {reason}"
        ) from None
    except ValueError as exc:  # asyncpg's parse error for a malformed URL
        raise StartupRefused(f"the database URL is malformed: {exc}") from None


async def _connect_once(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=DATABASE_CHECK_TIMEOUT_S)
    await connection.close()


def mask_password(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{location}"


def run(settings: Settings) -> None:
    """Everything a start needs that can be found out before it begins."""
    # The processes a supervisor starts share its port on purpose (SO_REUSEPORT); it checked.
    if settings.supervisor_pid is None:
        check_port_free(settings.host, settings.port)
    if settings.database_url:
        check_database_reachable(settings.database_url)
