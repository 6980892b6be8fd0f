"""The definition editors (/edit/{kind} and /edit/{kind}/{name}) and their review diff
(POST /edit/diff). The pages only read: saving and deleting are REST API calls made by
static/editor.js, so the API's own validation answers every edit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from conductor.api import requests as rq
from conductor.api.keys import POOL
from conductor.engine.model import JSON
from conductor.errors import FieldError, ValidationFailed
from conductor.store import definitions
from conductor.store.pool import Conn
from conductor.ui.editor_kinds import KINDS, WORKFLOW_DEF, EditorKind, stored
from conductor.ui.frame import operating_page, page, reading_page
from conductor.ui.json_diff import canonical, has_changes, line_diff


def _kind(request: web.Request) -> EditorKind:
    # Each kind has its own routes (/edit/{kind}...): the path's second segment names it.
    return KINDS[request.path.split("/")[2]]


@operating_page
async def edit(request: web.Request) -> web.StreamResponse:
    kind = _kind(request)
    name = request.match_info.get("name")
    if name is None:
        return _editor(request, kind, None, kind.template)
    wanted = request.query.get("version", "")
    version = int(wanted) if wanted.isdigit() else None
    async with request.app[POOL].acquire() as conn:
        found = None if wanted and version is None else await stored(kind, conn, name, version)
        next_version = await _next_version(conn, name) if kind is WORKFLOW_DEF else None
    if found is None:
        what = f"{kind.label} {name}" + (f" version {wanted}" if wanted else "")
        return page(request, "not_found.html", 404, what=what)
    return _editor(request, kind, name, found, next_version)


def _editor(
    request: web.Request,
    kind: EditorKind,
    name: str | None,
    definition: JSON,
    next_version: int | None = None,
) -> web.StreamResponse:
    version = definition.get("version") if name is not None else None
    config: dict[str, Any] = {
        "kind": kind.key,
        "name": name,
        "version": version,
        "nextVersion": next_version,
        "create": kind.create.config(),
        "update": kind.update.config(),
        "viewPath": kind.view_path,
        "afterDelete": kind.after_delete,
    }
    if name is not None:
        config["deletePath"] = kind.delete_path.format(
            name=quote(name, safe=""), version=quote(str(version), safe="")
        )
        config["deleteQuestion"] = _delete_question(kind, name, version)
    return page(
        request,
        "editor.html",
        kind=kind,
        name=name,
        version=version,
        next_version=next_version,
        as_new=request.query.get("asNew") == "1" and next_version is not None,
        text=canonical(definition),
        config=json.dumps(config),  # an attribute's value: the template escapes it
    )


def _delete_question(kind: EditorKind, name: str, version: object) -> str:
    if kind is WORKFLOW_DEF:
        return f"Delete version {version} of the workflow definition {name}?"
    return f"Delete the {kind.label} {name}?"


async def _next_version(conn: Conn, name: str) -> int:
    every = [d for d in await definitions.list_workflow_defs(conn) if d.get("name") == name]
    versions = [d["version"] for d in every if isinstance(d.get("version"), int)]
    return max(versions, default=0) + 1


@reading_page
async def diff(request: web.Request) -> web.StreamResponse:
    """What a save would change: the edited definition (`after`) against the stored one, as an
    HTML fragment. A POST for its JSON body; it changes nothing."""
    body = await rq.json_object(request, "diff")
    kind = KINDS.get(str(body.get("kind")))
    if kind is None:
        raise ValidationFailed(
            [FieldError("diff.kind", f"must be one of {', '.join(KINDS)}", body.get("kind"))]
        )
    name, version = body.get("name"), body.get("version")
    before = None
    if isinstance(name, str) and name:
        async with request.app[POOL].acquire() as conn:
            version = version if isinstance(version, int) else None
            before = await stored(kind, conn, name, version)
    lines = line_diff(canonical(before), canonical(body.get("after")))
    context = {"lines": lines, "changed": has_changes(lines), "new": before is None}
    return aiohttp_jinja2.render_template("diff.html", request, context)


def routes() -> list[web.RouteDef]:
    every = []
    for key in KINDS:
        every += [web.get(f"/edit/{key}", edit), web.get(f"/edit/{key}/{{name}}", edit)]
    return [*every, web.post("/edit/diff", diff)]
