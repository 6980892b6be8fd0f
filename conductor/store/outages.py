"""Which database errors mean "PostgreSQL is not there (or not writable) right now", as opposed
to a fault in a statement: the first kind is worth a retry once the database is back."""

from __future__ import annotations

import asyncpg

_UNAVAILABLE = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # no connection within the deadline
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost
    asyncpg.OperatorInterventionError,  # class 57: shutting down, cannot connect now
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.ReadOnlySQLTransactionError,  # a standby, or default_transaction_read_only
)


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, _UNAVAILABLE):
        return True
    # A pooled connection whose session the server ended while it sat idle can fail its next
    # statement this way (seen after pg_terminate_backend); the pool then drops it.
    if isinstance(exc, asyncpg.InternalClientError) and "another operation" in str(exc):
        return True
    # The pool's own words when the connection under it went away.
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)
