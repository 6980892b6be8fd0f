"""/runWorkflow (Conductor's path): a form that starts a workflow. static/run.js posts it to
POST /api/workflow and keeps the user's recent runs in the browser."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from conductor.api.keys import POOL
from conductor.store import definitions
from conductor.ui.frame import operating_page, page
from conductor.ui.json_diff import canonical
from conductor.wire.start_request import IDEMPOTENCY_STRATEGIES


@operating_page
async def run_workflow(request: web.Request) -> web.StreamResponse:
    async with request.app[POOL].acquire() as conn:
        latest = await definitions.list_workflow_defs(conn, latest_only=True)
    inputs = {str(d["name"]): _input_names(d) for d in latest}
    chosen = request.query.get("name", "")
    return page(
        request,
        "run_workflow.html",
        workflows=[(name, json.dumps(inputs[name])) for name in sorted(inputs)],
        chosen=chosen,
        version=request.query.get("version", ""),
        input_text=_template(inputs.get(chosen, [])),
        strategies=IDEMPOTENCY_STRATEGIES,
    )


def _input_names(definition: dict[str, Any]) -> list[str]:
    """The definition's declared inputs, when they are a plain list of names."""
    names = definition.get("inputParameters")
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str) and name]


def _template(inputs: list[str]) -> str:
    """An input with each declared key and no values: the user fills them in."""
    return canonical(dict.fromkeys(inputs, "")) if inputs else "{}"
