"""Attempts to get out of the INLINE JavaScript sandbox (V8 via mini-racer).

Each attempt ends as a failed task or as a result that holds nothing of the server; a marker in
the server's environment never shows up, and the server answers normally afterwards. The plain
`process.env`, `require`, endless loop and memory bomb cases are in test_scripts.py.
"""

from __future__ import annotations

import json

import pytest

from conductor.api.keys import SANDBOX
from tests.conftest import drain
from tests.integration.api import register_workflow, start, workflow

pytestmark = pytest.mark.integration

MARKER = "marker-c41d07-not-for-scripts"
# A WebAssembly module exporting `f`, whose body is `loop br 0 end`: a loop with no exit.
WASM_LOOP = "[0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,3,64,12,0,11,11]"
# What a script may see at top level: ECMAScript's globals, the `$` binding, and mini-racer's
# timer shim and (silent) console. A new name here must be checked for reach outside V8.
_GLOBAL_NAMES = """
    $ AggregateError Array ArrayBuffer AsyncDisposableStack Atomics BigInt BigInt64Array
    BigUint64Array Boolean DataView Date DisposableStack Error EvalError FinalizationRegistry
    Float16Array Float32Array Float64Array Function Infinity Int16Array Int32Array Int8Array Intl
    Iterator JSON Map Math NaN Number Object Promise Proxy RangeError ReferenceError Reflect
    RegExp Set SharedArrayBuffer String SuppressedError Symbol SyntaxError Temporal TypeError
    URIError Uint16Array Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakRef WeakSet
    WebAssembly __timer_manager clearTimeout console decodeURI decodeURIComponent encodeURI
    encodeURIComponent escape eval globalThis isFinite isNaN parseFloat parseInt setTimeout
    undefined unescape
"""
ALLOWED_GLOBALS = set(_GLOBAL_NAMES.split())


@pytest.fixture(autouse=True)
def marked(monkeypatch, client) -> None:
    monkeypatch.setenv("CONDUCTOR_SANDBOX_MARKER", MARKER)
    client.server.app[SANDBOX].timeout_s = 0.5  # the endless cases end sooner


def inline_workflow(name: str) -> dict:
    # The script comes with the run: registration would refuse the ones that do not parse.
    return {
        "name": name,
        "tasks": [
            {
                "name": "s",
                "taskReferenceName": "s",
                "type": "INLINE",
                "inputParameters": {
                    "evaluatorType": "javascript",
                    "expression": "${workflow.input.script}",
                },
            }
        ],
    }


async def run_script(client, script: str) -> dict:
    """Run `script` as an INLINE task; the finished run, checked for the marker and for a
    server that still answers and still runs scripts."""
    await register_workflow(client, inline_workflow("escape"))
    workflow_id = await start(client, "escape", {"script": script})
    await drain(client)
    run = await workflow(client, workflow_id)
    assert MARKER not in json.dumps(run)
    health = await client.get("/health")
    assert health.status == 200 and (await health.json())["healthy"] is True
    after_id = await start(client, "escape", {"script": "6 * 7"})
    await drain(client)
    after = await workflow(client, after_id)
    assert after["tasks"][0]["outputData"] == {"result": 42}
    return run


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("this.constructor.constructor('return process')()", "process is not defined"),
        ("Function('return process')().env", "process is not defined"),
        ("import fs from 'fs'; fs", "SyntaxError"),
        ("Java.type('java.lang.System').getenv()", "Java is not defined"),
        ("load('/etc/passwd')", "load is not defined"),
        ("read('/etc/passwd')", "read is not defined"),
        ("os.system('id')", "os is not defined"),
        ("fetch('http://127.0.0.1/')", "fetch is not defined"),
        ("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)", "timed out"),
        (
            f"new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array({WASM_LOOP})))"
            ".exports.f()",
            "timed out",
        ),
        ("var s = 'x'; while (true) { s = s + s; }", "Error"),  # out of memory or string length
    ],
)
async def test_escape_attempt_fails_the_task(client, script, reason) -> None:
    run = await run_script(client, script)
    task = run["tasks"][0]
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert reason in task["reasonForIncompletion"]
    assert run["status"] == "FAILED"


async def test_dynamic_import_gives_only_a_pending_promise(client) -> None:
    # No module loader is installed: the promise can only reject, after the script has ended.
    run = await run_script(client, "import('fs')")
    assert run["tasks"][0]["status"] == "COMPLETED"
    assert run["tasks"][0]["outputData"] == {"result": {}}


async def test_the_global_object_holds_no_host_objects(client) -> None:
    run = await run_script(client, "Object.getOwnPropertyNames(globalThis)")
    names = set(run["tasks"][0]["outputData"]["result"])
    assert names <= ALLOWED_GLOBALS, f"new globals to review: {names - ALLOWED_GLOBALS}"
    # A sloppy-mode function's `this` is that same global object, not a host one.
    sloppy = await run_script(client, "Object.getOwnPropertyNames(new Function('return this')())")
    assert set(sloppy["tasks"][0]["outputData"]["result"]) == names


async def test_a_static_import_is_refused_at_registration(client) -> None:
    definition = inline_workflow("static_import")
    definition["tasks"][0]["inputParameters"]["expression"] = "import fs from 'fs'; fs"
    response = await client.post("/api/metadata/workflow", json=definition)
    assert response.status == 400
    [error] = (await response.json())["validationErrors"]
    assert "Cannot use import statement outside a module" in error["message"]


async def test_host_names_are_all_undefined(client) -> None:
    names = "process require module exports Buffer Deno Bun Java Packages load read print quit"
    script = f"{json.dumps(names.split())}.filter(n => typeof globalThis[n] !== 'undefined')"
    run = await run_script(client, script)
    assert run["tasks"][0]["outputData"] == {"result": []}
