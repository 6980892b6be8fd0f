"""The execution page's live answers stay small on a long run: the tasks tab sends one page of
rows (never every task), and the JSON tab keeps the document it loaded (hx-preserve) instead of
receiving the whole run every 2 s."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.integration.api import complete, poll, register_workflow, sequence

pytestmark = pytest.mark.integration


async def _text(client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.text() if status == 200 else ""


def _live_url(page: str) -> str:
    [url] = re.findall(r'hx-get="([^"]+)"', page)
    return html_lib.unescape(url)


def _task_links(html: str) -> list[str]:
    return re.findall(r'<a href="\?[^"]*task=([0-9a-f-]{36})[^"]*#task">', html)


async def test_a_live_answer_on_the_tasks_tab_is_one_page_not_every_task(client) -> None:
    steps = [f"s{i}" for i in range(130)]
    await register_workflow(client, sequence("long", *steps))
    response = await client.post("/api/workflow", json={"name": "long", "input": {}})
    workflow_id = await response.text()
    for _ in range(120):
        [task] = await poll(client, "work")
        await complete(client, task)
    page = await _text(client, f"/execution/{workflow_id}?tab=tasks")
    assert len(_task_links(page)) == 100  # the first page of 121 tasks
    [task] = await poll(client, "work")
    await complete(client, task)
    answer = await _text(client, _live_url(page))
    assert len(_task_links(answer)) == 100  # the same page again, not 122 rows
    later = await _text(client, _live_url(page).replace("tab=tasks", "tab=tasks&taskPage=2"))
    assert len(_task_links(later)) == 22 and task["taskId"] in _task_links(later)


async def test_the_json_tab_is_kept_as_loaded_not_sent_again(client) -> None:
    await register_workflow(client, sequence("doc", "a", "b"))
    response = await client.post("/api/workflow", json={"name": "doc", "input": {"k": "v1"}})
    workflow_id = await response.text()
    page = await _text(client, f"/execution/{workflow_id}?tab=json")
    assert '<section id="run-json" hx-preserve>' in page and "&#34;k&#34;: &#34;v1&#34;" in page
    [task] = await poll(client, "work")
    await complete(client, task)
    answer = await _text(client, _live_url(page))
    assert '<section id="run-json" hx-preserve>' in answer
    assert "&#34;k&#34;" not in answer and workflow_id in answer  # the header, not the document
