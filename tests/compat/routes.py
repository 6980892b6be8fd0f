"""Our route table against Conductor OSS's, and the status of each SDK endpoint here.

``conductor_oss_routes.json`` records every (method, path) the Conductor OSS server's REST
controllers declare (written by ``extract_oss_routes.py``). Each OSS route is served here, or is
listed below with the reason it is not served (yet). The SDK endpoints
(``sdk_endpoints.py``) get a status from the same data: docs/compatibility.md is written from it
(``write_compatibility_doc.py``) and tests/integration/test_oss_routes.py holds both to it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from tests.compat.sdk_endpoints import Endpoint

OSS_ROUTES_FILE = Path(__file__).with_name("conductor_oss_routes.json")
_PARAMETER = re.compile(r"\{[^}]*\}")

Route = tuple[str, str]  # (HTTP method, path template normalised by `normalise`)


def normalise(path: str) -> str:
    """``/api/tasks/{workflowId}/{taskRefName}`` and ``.../{workflow_id}/{ref}`` compare equal."""
    return _PARAMETER.sub("{}", path).rstrip("/") or "/"


def route(method: str, path: str) -> Route:
    return method.upper(), normalise(path)


def oss_routes() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OSS_ROUTES_FILE.read_text())
    return data


def served_routes(app: web.Application) -> set[Route]:
    """Every (method, path) the app's router declares (aiohttp's implicit HEADs left out)."""
    return {
        route(r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }


_NO_EXTERNAL_STORAGE = (
    "no external payload storage: payloads are stored in PostgreSQL up to the 10 MB limit "
    "(larger gets 413), so there is no upload location to hand out"
)

# Conductor OSS routes deliberately not served, with the reason.
NOT_SERVED: dict[Route, str] = {
    route("GET", "/api/admin/config"): (
        "dumps the server's configuration properties; this server does not publish its settings "
        "over HTTP"
    ),
    route("POST", "/api/admin/sweep/requeue/{workflowId}"): (
        "puts a workflow back on Conductor's sweeper queue; here every pending step is a durable "
        "timer or a committed transition, so there is no sweeper queue"
    ),
    route("POST", "/api/admin/consistency/verifyAndRepair/{workflowId}"): (
        "repairs drift between Conductor's queues and its store; here queue rows and workflow "
        "state commit in one transaction and cannot drift"
    ),
    route("GET", "/api/admin/queues"): (
        "lists Conductor's internal queues; task queue sizes are at /api/tasks/queue/all and "
        "/api/tasks/queue/all/verbose"
    ),
    route("GET", "/api/environment"): (
        "hands the server's environment variables to workflow authors; the environment stays "
        "private here"
    ),
    route("GET", "/api/environment/{key}"): "as GET /api/environment",
    route("GET", "/api/secrets"): "no secrets store",
    route("GET", "/api/tasks/externalstoragelocation"): _NO_EXTERNAL_STORAGE,
    route("GET", "/api/tasks/external-storage-location"): _NO_EXTERNAL_STORAGE,
    route("GET", "/api/workflow/externalstoragelocation"): _NO_EXTERNAL_STORAGE,
    route("GET", "/api/workflow/external-storage-location"): _NO_EXTERNAL_STORAGE,
}

# Conductor OSS routes not served yet: gaps to close, each with what to use meanwhile.
NOT_YET: dict[Route, str] = {}

# Whole Conductor OSS controllers not served, with the reason.
NOT_SERVED_CONTROLLERS: dict[str, str] = {
    "WorkflowMessageQueueResource": (
        "workflow message queue: off by default in Conductor OSS "
        "(`conductor.workflow-message-queue.enabled=false`); not implemented"
    ),
    "FileResource": (
        "file storage: off by default in Conductor OSS (`conductor.file-storage.enabled`); "
        "not implemented"
    ),
    "ExternalPostgresPayloadResource": _NO_EXTERNAL_STORAGE,
    "A2ACallbackResource": "Conductor's AI module (LLM and A2A agent tasks): out of scope here",
    "A2AServerResource": (
        "Conductor's AI module (workflows served as A2A agents): out of scope here"
    ),
    "A2AAgentServerResource": "Conductor's agent runtime (agentspan): out of scope here",
    "AgentController": "Conductor's agent runtime (agentspan): out of scope here",
    "ProviderController": "Conductor's agent runtime (agentspan): out of scope here",
    "SecretController": (
        "the secrets store of Conductor's agent runtime (agentspan): no secrets store here"
    ),
    "SkillController": "Conductor's agent runtime (agentspan) skills: out of scope here",
}

# SDK endpoints served here that behave differently from Conductor OSS, and how.
_NOTHING_BLOCKS = (
    "with `returnStrategy` BLOCKING_TASK or BLOCKING_TASK_INPUT and no task blocking (the run "
    "ended, or time ran out), answers the target run with `responseType` TARGET_WORKFLOW; "
    "Conductor OSS's responder has no answer there (null, which Reactor turns into an error)"
)

_WHOLE_SCHEDULER = (
    "pauses or resumes every server on this database, and survives restarts (stored in "
    "PostgreSQL); Conductor OSS pauses only the server asked, in memory"
)

DIFFERENT: dict[Route, str] = {
    route("POST", "/api/workflow"): (
        "`idempotencyKey` with `idempotencyStrategy` FAIL, RETURN_EXISTING or FAIL_ON_RUNNING is "
        "enforced (Conductor OSS ignores it)"
    ),
    route("POST", "/api/workflow/execute/{name}/{version}"): _NOTHING_BLOCKS,
    route("POST", "/api/tasks/{workflowId}/{status}/signal/sync"): _NOTHING_BLOCKS,
    route("POST", "/api/event"): (
        "also takes a list of handlers, stored all or none (Orkes' shape, which the JavaScript "
        "SDK's addEventHandler sends); Conductor OSS takes one"
    ),
    route("GET", "/api/scheduler/admin/pause"): _WHOLE_SCHEDULER,
    route("GET", "/api/scheduler/admin/resume"): _WHOLE_SCHEDULER,
    route("GET", "/api/scheduler/admin/requeue"): (
        "re-derives the next run of every unpaused schedule (schedules are durable timer rows "
        "here) and answers Conductor's shape with schedule names as the ids; Conductor OSS "
        "re-queues pending execution records for archival"
    ),
}

# Answers for SDK paths that another route of ours (and of Conductor OSS) matches.
ANSWERED_BY_ANOTHER_ROUTE: dict[Route, str] = {
    route("GET", "/api/event/execution"): (
        "matched by GET /api/event/{event} (handlers for an event named `execution`: an empty "
        "list), as in Conductor OSS"
    ),
    route("GET", "/api/event/message"): (
        "matched by GET /api/event/{event} (handlers for an event named `message`: an empty "
        "list), as in Conductor OSS"
    ),
    route("GET", "/api/scheduler/schedules/tags"): (
        "matched by GET /api/scheduler/schedules/{name}: a JSON 404 for a schedule named `tags`"
    ),
    route("DELETE", "/api/metadata/workflow/{name}/tags"): (
        "matched by DELETE /api/metadata/workflow/{name}/{version}: a JSON 400, `tags` is not a "
        "version"
    ),
}


def oss_reason(method: str, path: str, controller: str) -> str | None:
    """Why a Conductor OSS route is not served here, or None when it should be."""
    key = route(method, path)
    return NOT_SERVED.get(key) or NOT_YET.get(key) or NOT_SERVED_CONTROLLERS.get(controller)


@dataclass(frozen=True)
class Status:
    kind: str  # supported | different | not served | Orkes-only
    note: str = ""


async def status_of(endpoint: Endpoint, app: web.Application, oss: dict[Route, str]) -> Status:
    """What this server does with an SDK endpoint. ``oss`` maps OSS routes to their controller."""
    key = route(endpoint.method, endpoint.path)
    if key in served_routes(app):
        if key in DIFFERENT:
            return Status("different", DIFFERENT[key])
        return Status("supported")
    if key in ANSWERED_BY_ANOTHER_ROUTE:
        return Status("different", ANSWERED_BY_ANOTHER_ROUTE[key])
    if key in oss:
        reason = oss_reason(endpoint.method, endpoint.path, oss[key])
        return Status("not served", f"Conductor OSS serves it; {reason}")
    match = await app.router.resolve(make_mocked_request(endpoint.method, concrete(endpoint.path)))
    if match.http_exception is None:
        raise AssertionError(f"{endpoint} is answered by another route: explain it in routes.py")
    if match.http_exception.status == 405:
        return Status("Orkes-only", "JSON 405: the path is served here for other methods")
    return Status("Orkes-only")


def concrete(path: str) -> str:
    """A request path for a template: ``1`` for a version, ``x1`` for any other parameter."""
    return _PARAMETER.sub(lambda m: "1" if m.group(0) == "{version}" else "x1", path)
