"""The execution page's live answer on the tasks tab carries only the task rows that changed
since the page's last look, not every row: the table stays (hx-preserve) and the rows are
swapped in by id or added at its end."""

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


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="task-row-([^"]+)"', html)


async def test_the_live_answer_carries_only_the_changed_rows(client, clock) -> None:
    await register_workflow(client, sequence("rows", "a", "b", "c", "d"))
    response = await client.post("/api/workflow", json={"name": "rows", "input": {}})
    workflow_id = await response.text()
    done = []
    for _ in range(2):
        [task] = await poll(client, "work")
        clock.advance(1)
        await complete(client, task)
        done.append(task["taskId"])
    clock.advance(1)
    page = await _text(client, f"/execution/{workflow_id}?tab=tasks")
    shown = _row_ids(page)
    assert len(shown) == 3 and shown[:2] == done  # a and b done, c scheduled
    assert "&amp;seq=3" in page

    clock.advance(1)
    [third] = await poll(client, "work")  # c starts
    answer = await _text(client, _live_url(page))
    # c, and b: it ended in the same millisecond c was scheduled, the page's newest; rows
    # updated at that very time are sent again, so none updated just after the page is missed.
    assert _row_ids(answer) == [done[1], third["taskId"]]  # not a
    assert f'<tr id="task-row-{third["taskId"]}" hx-swap-oob="true">' in answer
    assert "IN_PROGRESS" in answer

    clock.advance(1)
    await complete(client, third)  # c done, d scheduled: one row changed, one new
    answer = await _text(client, _live_url(answer))  # as htmx does: the answer's own marks
    [fourth] = [t for t in _row_ids(answer) if t != third["taskId"]]
    added = re.search(r'<tbody hx-swap-oob="beforeend:#task-rows">(.*?)</tbody>', answer, re.S)
    assert added is not None and _row_ids(added.group(1)) == [fourth]
    assert set(_row_ids(answer)) == {third["taskId"], fourth}

    # Without the page's marks (an old page), the answer has every row, as before.
    whole = await _text(client, f"/execution/{workflow_id}/changes?since=x&tab=tasks")
    assert len(_row_ids(whole)) == 4 and "hx-swap-oob" not in whole


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
