"""Definition pages at Conductor's paths: /workflowDefs, /workflowDef/{name}, /taskDefs and
/taskDef/{name}. Read through the same store functions as /api/metadata."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup

from conductor.api.keys import POOL
from conductor.store import definitions as store
from conductor.ui.diagram import render_definition
from conductor.ui.frame import may_operate, page, reading_page


@reading_page
async def workflow_defs(request: web.Request) -> web.StreamResponse:
    async with request.app[POOL].acquire() as conn:
        every = await store.list_workflow_defs(conn)
    versions: dict[str, list[dict[str, Any]]] = {}
    for definition in every:
        versions.setdefault(str(definition["name"]), []).append(definition)
    latest = [max(found, key=_version) for _, found in sorted(versions.items())]
    counts = {name: len(found) for name, found in versions.items()}
    return page(
        request,
        "workflow_defs.html",
        definitions=latest,
        counts=counts,
        may_operate=may_operate(request),
    )


@reading_page
async def workflow_def(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        every = [d for d in await store.list_workflow_defs(conn) if d.get("name") == name]
    if not every:
        return page(request, "not_found.html", 404, what=f"workflow definition {name}")
    every.sort(key=_version)
    wanted = request.query.get("version")
    chosen = next((d for d in every if str(d.get("version")) == wanted), every[-1])
    diagram = render_definition(chosen.get("tasks") or [], title=f"{name} v{chosen.get('version')}")
    # Built by conductor/ui/diagram, which escapes every text it writes.
    return page(
        request,
        "workflow_def.html",
        definition=chosen,
        versions=every,
        diagram=Markup(diagram),
        may_operate=may_operate(request),
    )


@reading_page
async def task_defs(request: web.Request) -> web.StreamResponse:
    async with request.app[POOL].acquire() as conn:
        found = sorted(await store.list_task_defs(conn), key=lambda d: str(d.get("name")))
    return page(request, "task_defs.html", definitions=found, may_operate=may_operate(request))


@reading_page
async def task_def(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[POOL].acquire() as conn:
        found = await store.get_task_def(conn, name)
    if found is None:
        return page(request, "not_found.html", 404, what=f"task definition {name}")
    return page(request, "task_def.html", definition=found, may_operate=may_operate(request))


def _version(definition: dict[str, Any]) -> int:
    version = definition.get("version")
    return version if isinstance(version, int) else 0
