"""Cross-process wake-ups over PostgreSQL LISTEN/NOTIFY: the relay of conductor/wakeups.py.

Wake-ups are hints: the data is already committed, so a lost NOTIFY only delays a poller until its
long-poll times out or the timer service's safety poll. Notices are coalesced and sent after the
commit on one dedicated connection, never inside the transition's transaction, because NOTIFY
serialises committing transactions on a global lock. Sending and listening are two background
services, each on its own connection, reconnecting after an outage.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Collection

import asyncpg

from conductor.background import TRANSIENT_ERRORS, BackgroundService
from conductor.store import tasks as task_store
from conductor.wakeups import Wakeups

CHANNEL = "conductor_wake"
_MAX_PAYLOAD = 7000  # NOTIFY payloads must stay under 8000 bytes
# Notices wait this long to be sent together: under load one NOTIFY carries many wake-ups.
_COALESCE_S = 0.005
# A listening connection is only looked at again when it is lost (or the server stops).
_LISTEN_CHECK_S = 3600.0


class Broadcaster:
    def __init__(self, dsn: str, wakeups: Wakeups) -> None:
        self._wakeups = wakeups
        # Marks our own notices, which come back to us through LISTEN and need no action.
        self._origin = uuid.uuid4().hex[:12]
        self.sender = _Sender(dsn, self._origin)
        self.listener = _Listener(dsn, self._on_notice, wakeups)

    def services(self) -> list[BackgroundService]:
        return [self.sender, self.listener]

    def queues_ready(self, names: Collection[str]) -> None:
        self.sender.publish({f"q:{n}" for n in names})

    def timers_written(self, earliest_fire_at: int) -> None:
        self.sender.publish({f"t:{earliest_fire_at}"})

    def workflow_finished(self, workflow_id: str) -> None:
        self.sender.publish({f"w:{workflow_id}"})

    def event_messages_written(self) -> None:
        self.sender.publish({"e:"})

    def _on_notice(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        origin, _, notices = str(payload).partition("\n")
        if origin == self._origin:
            return
        for notice in notices.split("\n"):
            kind, _, key = notice.partition(":")
            if kind == "q":
                self._wakeups.queues.wake(key)
            elif kind == "w":
                self._wakeups.workflows.wake(key)
            elif kind == "t" and key.isdigit():
                self._wakeups.timer_due(int(key))
            elif kind == "e":
                self._wakeups.event_messages.set()


class _Sender(BackgroundService):
    name = "wakeup-sender"

    def __init__(self, dsn: str, origin: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._origin = origin
        self._pending: set[str] = set()
        self._flag = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    def publish(self, notices: set[str]) -> None:
        self._pending |= notices
        self._flag.set()

    def stop(self) -> None:
        super().stop()
        self._flag.set()

    async def step(self) -> float:
        await self._flag.wait()
        self._flag.clear()
        notices, self._pending = self._pending, set()
        if not notices:
            return 0
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._dsn)
            for payload in _chunks(sorted(notices)):
                await task_store.notify(self._conn, CHANNEL, f"{self._origin}\n{payload}")
        except TRANSIENT_ERRORS:
            # Connect again next time; these notices are hints, so they are let go.
            if self._conn is not None:
                self._conn.terminate()
            self._conn = None
            raise
        return _COALESCE_S

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None


class _Listener(BackgroundService):
    name = "wakeup-listener"

    def __init__(
        self, dsn: str, on_notice: Callable[[object, int, str, object], None], wakeups: Wakeups
    ) -> None:
        super().__init__()
        self._dsn = dsn
        self._on_notice = on_notice
        self._wakeups = wakeups
        self._conn: asyncpg.Connection | None = None

    async def step(self) -> float:
        if self._conn is not None and not self._conn.is_closed():
            return _LISTEN_CHECK_S
        self._conn = await asyncpg.connect(self._dsn)
        self._conn.add_termination_listener(self._lost)
        await self._conn.add_listener(CHANNEL, self._on_notice)
        # Anything sent while we were not listening is lost: look at everything once.
        self._wakeups.queues.wake_all()
        self._wakeups.timer_due(0)
        self._wakeups.event_messages.set()
        return _LISTEN_CHECK_S

    def _lost(self, _conn: object) -> None:
        self.wake()

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None


def _chunks(notices: list[str]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for notice in notices:
        if current and size + len(notice) + 1 > _MAX_PAYLOAD:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(notice)
        size += len(notice) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks
