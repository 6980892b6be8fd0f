"""The four kinds of definition the editors change, and for each the REST API calls that save and
delete it. The editor's script makes those calls; nothing here writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conductor.engine.model import JSON
from conductor.store import definitions, events, schedules
from conductor.store.pool import Conn

Load = Callable[[Conn, str, int | None], Awaitable[JSON | None]]


@dataclass(frozen=True)
class Save:
    """One REST call that saves: `as_list` wraps the definition in a JSON array; `error_root`
    is where the API's validationErrors paths start (the editor strips it to find the field)."""

    method: str
    path: str
    as_list: bool
    error_root: str

    def config(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "asList": self.as_list,
            "errorRoot": self.error_root,
        }


@dataclass(frozen=True)
class EditorKind:
    key: str  # the editor's path segment: /edit/{key}
    label: str  # what the page calls it
    create: Save  # for a new definition (and a workflow's new version)
    update: Save  # for one that exists
    delete_path: str  # {name} and {version} filled in by the script, URL-encoded
    view_path: str  # where a save lands
    after_delete: str  # where a delete lands
    load: Load
    server_kept: frozenset[str]  # fields the server sets: left out of the editor and the diff
    template: JSON  # what a new definition starts from


async def _workflow_def(conn: Conn, name: str, version: int | None) -> JSON | None:
    return await definitions.get_workflow_def(conn, name, version)


async def _task_def(conn: Conn, name: str, _version: int | None) -> JSON | None:
    return await definitions.get_task_def(conn, name)


async def _event_handler(conn: Conn, name: str, _version: int | None) -> JSON | None:
    # Few handlers exist, and the store has no lookup by name: the list is the one read.
    return next((h for h in await events.list_handlers(conn) if h.get("name") == name), None)


async def _schedule(conn: Conn, name: str, _version: int | None) -> JSON | None:
    return await schedules.get(conn, name)


_TIMES = frozenset({"createTime", "updateTime", "createdBy", "updatedBy"})

WORKFLOW_DEF = EditorKind(
    key="workflowDef",
    label="workflow definition",
    create=Save("POST", "/api/metadata/workflow", False, "registerWorkflowDef.workflowDef"),
    update=Save("PUT", "/api/metadata/workflow", True, "updateWorkflowDefs.workflowDefs[0]"),
    delete_path="/api/metadata/workflow/{name}/{version}",
    view_path="/workflowDef/{name}?version={version}",
    after_delete="/workflowDefs",
    load=_workflow_def,
    server_kept=_TIMES,
    template={
        "name": "",
        "description": "",
        "version": 1,
        "schemaVersion": 2,
        "inputParameters": [],
        "tasks": [{"name": "", "taskReferenceName": "", "type": "SIMPLE", "inputParameters": {}}],
        "outputParameters": {},
        "timeoutPolicy": "ALERT_ONLY",
        "timeoutSeconds": 0,
    },
)

TASK_DEF = EditorKind(
    key="taskDef",
    label="task definition",
    create=Save("POST", "/api/metadata/taskdefs", True, "registerTaskDef.taskDefinitions[0]"),
    update=Save("PUT", "/api/metadata/taskdefs", False, "updateTaskDef.taskDef"),
    delete_path="/api/metadata/taskdefs/{name}",
    view_path="/taskDef/{name}",
    after_delete="/taskDefs",
    load=_task_def,
    server_kept=_TIMES,
    template={
        "name": "",
        "description": "",
        "retryCount": 3,
        "retryLogic": "FIXED",
        "retryDelaySeconds": 60,
        "timeoutSeconds": 3600,
        "timeoutPolicy": "TIME_OUT_WF",
        "responseTimeoutSeconds": 600,
        "inputKeys": [],
        "outputKeys": [],
    },
)

EVENT_HANDLER = EditorKind(
    key="eventHandler",
    label="event handler",
    create=Save("POST", "/api/event", False, "eventHandler"),
    update=Save("PUT", "/api/event", False, "eventHandler"),
    delete_path="/api/event/{name}",
    view_path="/eventHandlerDef/{name}",
    after_delete="/eventHandlerDefs",
    load=_event_handler,
    server_kept=frozenset(),
    template={
        "name": "",
        "event": "conductor:queue_name",
        "active": True,
        "actions": [{"action": "start_workflow", "start_workflow": {"name": "", "input": {}}}],
    },
)

SCHEDULE = EditorKind(
    key="schedule",
    label="schedule",
    create=Save("POST", "/api/scheduler/schedules", False, "workflowSchedule"),
    update=Save("POST", "/api/scheduler/schedules", False, "workflowSchedule"),
    delete_path="/api/scheduler/schedules/{name}",
    view_path="/scheduleDef/{name}",
    after_delete="/scheduleDefs",
    load=_schedule,
    server_kept=frozenset({"createTime", "updatedTime", "nextRunTime"}),
    template={
        "name": "",
        "cronExpression": "0 0 * * * *",
        "zoneId": "UTC",
        "paused": False,
        "startWorkflowRequest": {"name": "", "input": {}},
    },
)

KINDS = {kind.key: kind for kind in (WORKFLOW_DEF, TASK_DEF, EVENT_HANDLER, SCHEDULE)}


async def stored(kind: EditorKind, conn: Conn, name: str, version: int | None) -> JSON | None:
    """The definition as the editor shows it: what is stored, less what the server keeps."""
    found = await kind.load(conn, name, version)
    if found is None:
        return None
    return {k: v for k, v in found.items() if k not in kind.server_kept}
