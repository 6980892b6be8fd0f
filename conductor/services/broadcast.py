"""Cross-process wake-ups over PostgreSQL LISTEN/NOTIFY: the relay of conductor/wakeups.py.

Wake-ups are hints: the data is already committed, so a lost NOTIFY only delays a poller until its
long-poll times out or the timer service's safety poll. Notices are coalesced and sent after the
commit on one dedicated connection, never inside the transition's transaction, because NOTIFY
serialises committing transactions on a global lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Collection

import asyncpg

from conductor.store import tasks as task_store
from conductor.wakeups import Wakeups

log = logging.getLogger(__name__)

CHANNEL = "conductor_wake"
_MAX_PAYLOAD = 7000  # NOTIFY payloads must stay under 8000 bytes
# Notices wait this long to be sent together: under load one NOTIFY carries many wake-ups.
_COALESCE_S = 0.005


class Broadcaster:
    def __init__(self, dsn: str, wakeups: Wakeups) -> None:
        self._dsn = dsn
        self._wakeups = wakeups
        # Marks our own notices, which come back to us through LISTEN and need no action.
        self._origin = uuid.uuid4().hex[:12]
        self._pending: set[str] = set()
        self._flag = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def queues_ready(self, names: Collection[str]) -> None:
        self._publish({f"q:{n}" for n in names})

    def timers_written(self, earliest_fire_at: int) -> None:
        self._publish({f"t:{earliest_fire_at}"})

    def workflow_finished(self, workflow_id: str) -> None:
        self._publish({f"w:{workflow_id}"})

    def event_messages_written(self) -> None:
        self._publish({"e:"})

    def _publish(self, notices: set[str]) -> None:
        self._pending |= notices
        self._flag.set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="broadcast-send"),
            asyncio.create_task(self._listen_loop(), name="broadcast-listen"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _send_loop(self) -> None:
        conn: asyncpg.Connection | None = None
        backoff = 0.1
        while not self._stopping:
            await self._flag.wait()
            self._flag.clear()
            notices, self._pending = self._pending, set()
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(self._dsn)
                for payload in _chunks(sorted(notices)):
                    await task_store.notify(conn, CHANNEL, f"{self._origin}\n{payload}")
                backoff = 0.1
                await asyncio.sleep(_COALESCE_S)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("could not send wake-up notices: %s", exc)
                conn = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        if conn is not None:
            await conn.close()

    async def _listen_loop(self) -> None:
        backoff = 0.1
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(CHANNEL, self._on_notice)
                # Anything sent while we were not listening is lost: look at everything once.
                self._wakeups.queues.wake_all()
                self._wakeups.timer_due(0)
                self._wakeups.event_messages.set()
                backoff = 0.1
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("wake-up listener lost its connection: %s", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

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


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


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
