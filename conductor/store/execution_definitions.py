"""The definitions runs execute: stored once per distinct content, cached by id in memory.

A run keeps the task-definition-filled WorkflowDef it started with. Most runs of a workflow share
one, so the row holds an id (a hash of the content) and a transition finds the decoded definition
in a small LRU cache instead of decoding kilobytes of JSON every time. Cached dicts are shared:
callers must treat them as read-only.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import orjson

from conductor.engine.model import JSON
from conductor.store.pool import Conn
from conductor.store.queries import sql


def definition_id(definition: JSON) -> str:
    canonical = orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class ExecutionDefinitions:
    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._cache: OrderedDict[str, JSON] = OrderedDict()

    def _remember(self, key: str, definition: JSON) -> None:
        self._cache[key] = definition
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    async def store(self, conn: Conn, definition: JSON) -> str:
        """Persist (if new) and cache a definition; returns its id."""
        key = definition_id(definition)
        # Always written: the cache may know ids whose inserting transaction rolled back.
        await conn.execute(sql("execution_definition_insert"), key, definition)
        self._remember(key, definition)
        return key

    async def get(self, conn: Conn, key: str) -> JSON:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        body: JSON | None = await conn.fetchval(sql("execution_definition_get"), key)
        if body is None:
            raise LookupError(f"execution definition {key} is missing")
        self._remember(key, body)
        return body
