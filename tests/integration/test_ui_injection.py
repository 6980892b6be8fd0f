"""Server side of the injection proof: every UI page (found from the router), every execution
tab and the task panel, rendered over a store full of hostile text, carries it only escaped,
under a Content-Security-Policy that forbids inline script. The browser proof is
tests/browser/test_injection.py."""

from __future__ import annotations

import html as html_lib

import pytest

from tests.ui_walk import (
    HOSTILE,
    NAME,
    RAW_MARKUP,
    fill,
    script_sources,
    seed_hostile,
    tab_keys,
    ui_page_paths,
    ui_routes,
)

pytestmark = pytest.mark.integration


async def _html(client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, f"{path}: {response.status}"
    assert response.content_type == "text/html", path
    sources = script_sources(response.headers["Content-Security-Policy"])
    assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, path
    return await response.text()


async def test_every_page_shows_hostile_text_only_escaped(client) -> None:
    hostile = await seed_hostile(client)
    paths = ui_page_paths(hostile)
    execution = f"/execution/{hostile.failed_id}"
    assert execution in paths and f"/workflowDef/{NAME}" not in paths  # names are quoted
    first = await _html(client, execution)
    tabs = tab_keys(first)
    assert {"diagram", "tasks", "input", "json"} <= set(tabs)
    for run_id in (hostile.failed_id, hostile.running_id):
        paths += [f"/execution/{run_id}?tab={tab}" for tab in tabs]
    paths.append(f"{execution}?task={hostile.failed_task_id}")
    paths.append(f"/execution/{hostile.running_id}?task={hostile.running_task_id}&tab=tasks")
    pages = {path: await _html(client, path) for path in paths}
    for path, page in pages.items():
        for raw in RAW_MARKUP:
            assert raw not in page, f"{path} carries {raw!r} unescaped"
        assert 'href="javascript:' not in page.lower(), path
    # Escaped, not dropped: the whole payload is there as text.
    escaped = html_lib.escape(HOSTILE, quote=True).replace("&#x27;", "&#39;")
    assert escaped.replace("&quot;", "&#34;") in pages[execution]  # the failure banner
    panel = pages[f"{execution}?task={hostile.failed_task_id}"]
    assert panel.count(escaped.replace("&quot;", "&#34;")) >= 2  # the reason and the log line
    assert "{{7*7}}" in pages[fill("/taskDef/{name}", hostile.parameters())]


def test_a_route_with_an_unknown_parameter_fails_the_walk() -> None:
    assert "/execution/{workflow_id}" in ui_routes()
    with pytest.raises(AssertionError, match="does not know"):
        fill("/timeline/{timer_id}", {"workflow_id": "w"})
