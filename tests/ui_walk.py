"""Every UI page, found from the router, on a store full of hostile text.

`seed_hostile` writes HTML and script payloads through the REST API into every place a page
shows: workflow, task definition and event handler names, descriptions, task reference names,
workflow input, task output, reasons, task logs, correlation ids, variables, schedules.
`ui_page_paths` lists every GET page that `conductor.ui.routes.setup` registers, with its path
parameters filled from `PARAMETERS`; a page added later with a parameter the table does not
know fails the walk instead of being skipped. The injection tests (browser and server side) and
the offline test share both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from conductor.ui import routes

# Each payload runs `window.__pwned=1` if it ever reaches the page as markup.
SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE = '"><img src=x onerror="window.__pwned=1">'
SVG = "<svg onload=window.__pwned=1>"
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:window.__pwned=1"
# Closing tags of the places text may sit in (a textarea, a CDATA section, the title), then a
# script; and an outside image that would be fetched if it were markup.
CLOSERS = "</textarea><script>window.__pwned=1</script>]]></title><script>window.__pwned=1</script>"
TRACKER = '<img src="https://tracker.invalid/pixel.png">'
HOSTILE = SCRIPT + ATTRIBUTE + SVG + TEMPLATE + CLOSERS + TRACKER
# A name travels in paths (/workflowDef/{name}): aiohttp's path parameters take no "{", "}" or
# "/" (and the UI's links keep "/" unencoded, as Jinja's urlencode does), so names carry only
# the payloads that need none of them.
NAME = "x" + ATTRIBUTE + SVG + "<img src=x onerror=window.__pwned=1>"
CORRELATION = JS_URL + "//" + HOSTILE

# Raw markup that must never reach a page: each would be an element if it did.
RAW_MARKUP = (
    "<script>window.__pwned",
    "<img src=x",
    "<svg onload",
    "</textarea><script",
    "]]></title>",
    '<img src="https://tracker.invalid',
)


@dataclass(frozen=True)
class Hostile:
    """What `seed_hostile` made: a finished (failed) run, a running one, and their tasks."""

    failed_id: str
    failed_task_id: str
    running_id: str
    running_task_id: str

    def parameters(self) -> dict[str, str]:
        """Values for path parameters, keyed by parameter name."""
        return {
            "workflow_id": self.failed_id,
            "workflowId": self.failed_id,
            "name": NAME,  # every definition, handler and schedule has this name
            "version": "1",
            "task_id": self.failed_task_id,
            "taskId": self.failed_task_id,
        }


async def _call(http: Any, method: str, path: str, **kwargs: Any) -> Any:
    response = await http.request(method, path, **kwargs)
    text = await response.text()
    assert response.status in (200, 204), f"{method} {path}: {response.status} {text}"
    return text


def hostile_definition() -> dict[str, Any]:
    return {
        "name": NAME,
        "version": 1,
        "description": HOSTILE,
        "tasks": [
            {
                "name": "set_variable",
                "taskReferenceName": "vars" + HOSTILE,
                "type": "SET_VARIABLE",
                "inputParameters": {"note": HOSTILE, "link": JS_URL},
            },
            {
                "name": NAME,
                "taskReferenceName": HOSTILE,
                "type": "SIMPLE",
                "inputParameters": {"echo": "${workflow.input.text}"},
            },
        ],
    }


async def seed_hostile(http: Any) -> Hostile:
    """Write the payloads through the REST API; `http` is an aiohttp ClientSession with a
    base_url or a TestClient (both have `request(method, path, ...)`)."""
    task_def = {
        "name": NAME,
        "description": HOSTILE,
        "retryCount": 0,
        "responseTimeoutSeconds": 3600,
    }
    await _call(http, "POST", "/api/metadata/taskdefs", json=[task_def])
    await _call(http, "POST", "/api/metadata/workflow?overwrite=true", json=hostile_definition())
    run = {"name": NAME, "correlationId": CORRELATION, "input": {"text": HOSTILE, "url": JS_URL}}
    failed_id = await _call(http, "POST", "/api/workflow", json=run)
    [task] = await poll_one(http)
    await _call(http, "POST", f"/api/tasks/{task['taskId']}/log", data=HOSTILE.encode())
    result = {
        "workflowInstanceId": failed_id,
        "taskId": task["taskId"],
        "status": "FAILED_WITH_TERMINAL_ERROR",
        "reasonForIncompletion": HOSTILE,
        "outputData": {"text": HOSTILE, "subWorkflowId": JS_URL, "href": JS_URL},
        "logs": [{"log": HOSTILE}],
    }
    await _call(http, "POST", "/api/tasks", json=result)
    running_id = await _call(http, "POST", "/api/workflow", json=run)
    found = await http.request("GET", f"/api/workflow/{running_id}")
    tasks = (await found.json())["tasks"]
    running_task = next(t for t in tasks if t["taskType"] == NAME)
    handler = {
        "name": NAME,
        "event": "conductor:" + NAME,
        "active": False,
        "actions": [{"action": "start_workflow", "start_workflow": {"name": NAME, "input": run}}],
    }
    await _call(http, "POST", "/api/event", json=handler)
    schedule = {
        "name": NAME,
        "cronExpression": "0 0 0 1 1 ?",
        "paused": True,
        "startWorkflowRequest": run,
    }
    await _call(http, "POST", "/api/scheduler/schedules", json=schedule)
    return Hostile(failed_id, task["taskId"], running_id, running_task["taskId"])


async def poll_one(http: Any) -> list[dict[str, Any]]:
    response = await http.request(
        "GET", f"/api/tasks/poll/batch/{quote(NAME, safe='')}?count=1&timeout=1000&workerid=w1"
    )
    assert response.status == 200, await response.text()
    found: list[dict[str, Any]] = await response.json()
    assert len(found) == 1, found
    return found


_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def ui_routes() -> list[str]:
    """The path patterns of every GET route the UI registers, minus its static files."""
    app = web.Application()
    routes.setup(app)
    patterns = set()
    for route in app.router.routes():
        if route.method != "GET":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        pattern = info.get("formatter") or info.get("path") or info.get("prefix") or ""
        # Static files, and Swagger UI: a vendored third-party page with tests of its own
        # (tests/integration/test_openapi.py, tests/browser/test_swagger_ui.py).
        if pattern.startswith(("/ui/static", "/swagger-ui")):
            continue
        patterns.add(pattern)
    return sorted(patterns)


def fill(pattern: str, parameters: dict[str, str]) -> str:
    """A route pattern with its parameters filled in; fails on one the table does not know."""
    unknown = [p for p in _PARAMETER.findall(pattern) if p not in parameters]
    assert not unknown, (
        f"UI route {pattern} has parameters {unknown} that tests/ui_walk.py does not know: "
        "add them to Hostile.parameters so the new page is covered"
    )
    return _PARAMETER.sub(lambda m: quote(parameters[m.group(1)], safe=""), pattern)


def is_live_fragment(pattern: str) -> bool:
    """The execution page's live part, asked for by htmx rather than opened as a page."""
    return pattern.endswith("/changes")


def ui_page_paths(hostile: Hostile, auth_on: bool = False) -> list[str]:
    """Every UI page to open, as a path. /login only with sign-in on (it redirects otherwise);
    the live fragment with a stale mark, so that it answers with content."""
    paths = []
    for pattern in ui_routes():
        if pattern == "/login" and not auth_on:
            continue
        path = fill(pattern, hostile.parameters())
        paths.append(path + "?since=stale" if is_live_fragment(pattern) else path)
    return paths


def tab_keys(html: str) -> list[str]:
    """The `?tab=` keys an execution page's tab bar links to."""
    bar = re.search(r'<nav class="tabs">(.*?)</nav>', html, re.S)
    assert bar is not None, "the execution page has no tab bar"
    return sorted(set(re.findall(r'href="\?tab=([\w-]+)', bar.group(1))))


def script_sources(csp: str) -> str:
    """The policy's script-src (or its default-src when it has none)."""
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = " ".join(words[1:])
    assert "script-src" in directives or "default-src" in directives, csp
    return directives.get("script-src", directives.get("default-src", ""))
