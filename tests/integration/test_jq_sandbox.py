"""JSON_JQ_TRANSFORM queries see nothing of the server: no environment, no files.

The server's environment carries a marker (and a fake database URL); files holding the marker sit
in and above the jq process's working directory, as `.json` data and `.jq` modules. No query may
bring the marker into a task's output or reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conductor.services.jq_runner import MODULES_REFUSED
from tests.conftest import drain
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration

MARKER = "marker-5b1e9c-not-for-scripts"


@pytest.fixture
def planted(monkeypatch, tmp_path: Path) -> Path:
    """The marker in the server's environment and in files; the jq process starts in `work/`."""
    monkeypatch.setenv("CONDUCTOR_SANDBOX_MARKER", MARKER)
    monkeypatch.setenv("CONDUCTOR_DATABASE_URL", f"postgresql://{MARKER}@db/conductor")
    work = tmp_path / "work"
    work.mkdir()
    for folder in (tmp_path, work):
        (folder / "secret.json").write_text(json.dumps({"secret": MARKER}))
        (folder / "leak.jq").write_text(f'def leak: "{MARKER}";')
    monkeypatch.chdir(work)  # the jq process is spawned at the first query, with this cwd
    return tmp_path


def jq_workflow(name: str, query: str) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "t",
                "taskReferenceName": "t",
                "type": "JSON_JQ_TRANSFORM",
                # Through the input: a literal module directive is refused at registration.
                "inputParameters": {"queryExpression": "${workflow.input.query}"},
            }
        ],
    }


async def run_query(client, query: str) -> dict:
    workflow_id = await start(client, "jq_probe", {"query": query})
    await drain(client)
    return await workflow(client, workflow_id)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("env", {}),
        ("$ENV", {}),
        ("$ENV.PATH", None),
        ("env.CONDUCTOR_DATABASE_URL", None),
        ("$ENV.CONDUCTOR_SANDBOX_MARKER", None),
        ("input_filename", None),
        ("$__loc__", {"file": "<top-level>", "line": 1}),
        ("get_search_list", []),
    ],
)
async def test_queries_see_an_empty_environment(client, planted, query, expected) -> None:
    await register_workflow(client, jq_workflow("jq_probe", "."))
    run = await run_query(client, query)
    assert run["tasks"][0]["status"] == "COMPLETED", run["tasks"][0]
    assert run["tasks"][0]["outputData"]["result"] == expected
    assert MARKER not in json.dumps(run)


@pytest.mark.parametrize(
    "query",
    [
        'import "secret" as $s; $s',
        'import "./secret" as $s; $s',
        'import "../secret" as $s; $s',
        'import "{dir}/secret" as $s; $s',
        'import "secret" as $s {{search: "{dir}"}}; $s',
        'import "secret" as $s {{search: ".."}}; $s',
        'include "leak"; leak',
        'include "leak" {{search: "{dir}"}}; leak',
        'import "leak" as l {{search: "{dir}"}}; l::leak',
        '# a comment first\n  import "secret" as $s; $s',
        'module {{search: "{dir}"}}; import "secret" as $s; $s',
    ],
)
async def test_module_directives_are_refused(client, planted, query) -> None:
    query = query.format(dir=planted)
    await register_workflow(client, jq_workflow("jq_probe", "."))
    run = await run_query(client, query)
    task = run["tasks"][0]
    assert task["status"] == "FAILED"
    assert task["reasonForIncompletion"] == MODULES_REFUSED
    assert run["status"] == "FAILED"
    assert MARKER not in json.dumps(run)


async def test_module_directives_are_refused_at_registration(client, planted) -> None:
    definition = jq_workflow("jq_module", "x")
    definition["tasks"][0]["inputParameters"]["queryExpression"] = (
        f'include "leak" {{search: "{planted}"}}; leak'
    )
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    [error] = (await response.json())["validationErrors"]
    assert error["message"] == f"jq query does not compile: {MODULES_REFUSED}"
    assert MARKER not in json.dumps(error)


async def test_a_word_like_a_directive_is_not_refused(client, planted) -> None:
    await register_workflow(client, jq_workflow("jq_probe", "."))
    run = await run_query(client, '{import: "include", module: 1} | .import')
    assert run["tasks"][0]["outputData"]["result"] == "include"
