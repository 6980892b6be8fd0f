"""Every typed key under which shared state lives on the aiohttp Application."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from conductor.api.longpoll import Poller
from conductor.clock import Clock
from conductor.config import Settings
from conductor.executor import Executor
from conductor.group_commit import GroupCommit, StartGroup
from conductor.metrics import Metrics
from conductor.services.admission import StartAdmission
from conductor.services.api_keys import KeyAdmin
from conductor.services.audit import AuditTrail
from conductor.services.keyring import KeyRing
from conductor.services.scripts import ScriptSandbox
from conductor.store.workflows import WorkflowStore
from conductor.wakeups import Wakeups

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
POOL = web.AppKey("pool", asyncpg.Pool)
WORKFLOWS = web.AppKey("workflows", WorkflowStore)
EXECUTOR = web.AppKey("executor", Executor)
RESULTS = web.AppKey("results", GroupCommit)
STARTS = web.AppKey("starts", StartGroup)
POLLER = web.AppKey("poller", Poller)
WAKEUPS = web.AppKey("wakeups", Wakeups)
METRICS = web.AppKey("metrics", Metrics)
DATABASE_KIND = web.AppKey("database_kind", str)
SANDBOX = web.AppKey("sandbox", ScriptSandbox)
ADMISSION = web.AppKey("admission", StartAdmission)
KEYRING = web.AppKey("keyring", KeyRing)
AUDIT = web.AppKey("audit", AuditTrail)
KEY_ADMIN = web.AppKey("key_admin", KeyAdmin)
