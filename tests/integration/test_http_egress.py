"""The egress policy through real workflows: HTTP tasks and status webhooks aimed at denied
listeners fail without reaching them, redirects are checked per hop, bodies are capped."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conductor.app import create_app
from conductor.config import Settings
from tests.conftest import fire_timers
from tests.integration.api import register_task_defs, register_workflow, start, workflow

pytestmark = pytest.mark.integration


@dataclass
class Listener:
    """A local HTTP server that notes every request it gets."""

    server: TestServer
    hits: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def _answer(request: web.Request) -> web.StreamResponse:
    if request.path == "/redirect":
        return web.Response(status=302, headers={"Location": request.query["to"]})
    if request.path.startswith("/chain/"):
        left = int(request.path.removeprefix("/chain/"))
        if left:
            return web.Response(status=302, headers={"Location": f"/chain/{left - 1}"})
    if request.path == "/big":
        return web.Response(body=b"x" * int(request.query["size"]))
    return web.json_response({"path": request.path})


@pytest.fixture
def listener(aiohttp_server):
    async def make() -> Listener:
        hits: list[str] = []

        async def note(request: web.Request) -> web.StreamResponse:
            hits.append(request.path)
            return await _answer(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", note)
        return Listener(await aiohttp_server(app), hits)

    return make


@pytest.fixture
def app_with(db_dsn, clock, aiohttp_client):
    """The API with the given settings, listening on the port they name when they name one."""

    async def make(**settings):
        full = Settings(database_url=db_dsn, run_background_services=False, **settings)
        app = create_app(full, clock=clock)
        listen = {"port": full.port} if "port" in settings else {}
        return await aiohttp_client(app, server_kwargs=listen)

    return make


def http_task(ref: str, uri: str, method: str = "GET") -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "HTTP",
        "inputParameters": {"http_request": {"uri": uri, "method": method}},
    }


async def run_one(client, uri: str) -> dict:
    """Run a workflow of one HTTP task (never retried) to its end; the task as it ended."""
    await register_task_defs(client, {"name": "call", "retryCount": 0})
    await register_workflow(client, {"name": "egress", "tasks": [http_task("call", uri)]})
    workflow_id = await start(client, "egress")
    while await fire_timers(client):
        pass
    run = await workflow(client, workflow_id)
    [task] = run["tasks"]
    return task


def blocked(address: str, rule: str) -> str:
    return f"HTTP task blocked by egress policy: {address} is denied ({rule})"


async def test_a_denied_listener_is_never_called(app_with, listener) -> None:
    denied = await listener()
    entry = f"127.0.0.1:{denied.port}"
    client = await app_with(http_deny=(entry,))
    # Retries allowed, yet none is made: a refusal is final.
    await register_task_defs(client, {"name": "call", "retryCount": 2, "retryDelaySeconds": 0})
    await register_workflow(
        client, {"name": "egress", "tasks": [http_task("call", denied.url("/api/x"))]}
    )
    workflow_id = await start(client, "egress")
    while await fire_timers(client):
        pass
    run = await workflow(client, workflow_id)
    assert run["status"] == "FAILED"
    [task] = run["tasks"]
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"] == blocked(entry, entry)
    assert denied.hits == []


async def test_a_redirect_to_a_denied_listener_is_not_followed(app_with, listener) -> None:
    allowed, denied = await listener(), await listener()
    entry = f"127.0.0.1:{denied.port}"
    client = await app_with(http_deny=(entry,))
    target = denied.url("/api/metadata/taskdefs")
    task = await run_one(client, allowed.url(f"/redirect?to={target}"))
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"] == blocked(entry, entry)
    assert allowed.hits == ["/redirect"] and denied.hits == []


async def test_redirect_chains_are_cut_after_five_hops(app_with, listener) -> None:
    target = await listener()
    client = await app_with()
    task = await run_one(client, target.url("/chain/6"))
    assert task["status"] == "FAILED"
    assert task["reasonForIncompletion"].startswith(
        "Failed to invoke HTTP task due to: more than 5 redirects"
    )
    assert "/chain/0" not in target.hits and len(target.hits) == 6


async def test_a_short_redirect_chain_to_an_allowed_target_succeeds(app_with, listener) -> None:
    target = await listener()
    client = await app_with(http_allow=(f"127.0.0.1:{target.port}",))
    task = await run_one(client, target.url("/chain/2"))
    assert task["status"] == "COMPLETED"
    assert task["outputData"]["response"]["body"] == {"path": "/chain/0"}
    assert target.hits == ["/chain/2", "/chain/1", "/chain/0"]


async def test_the_allow_list_admits_nothing_else(app_with, listener) -> None:
    allowed, other = await listener(), await listener()
    client = await app_with(http_allow=(f"127.0.0.1:{allowed.port}",))
    task = await run_one(client, other.url("/x"))
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"] == (
        f"HTTP task blocked by egress policy: 127.0.0.1:{other.port} is not in the allow list"
    )
    assert other.hits == []


async def test_a_response_over_the_cap_fails_the_task(app_with, listener) -> None:
    target = await listener()
    client = await app_with(http_max_response_bytes=4096)
    task = await run_one(client, target.url("/big?size=4097"))
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"] == (
        "HTTP task response body is larger than 4096 bytes (CONDUCTOR_HTTP_MAX_RESPONSE_BYTES)"
    )
    assert task["outputData"] == {"response": task["reasonForIncompletion"]}


async def test_the_server_cannot_call_its_own_api(app_with, listener) -> None:
    with socket.socket() as probe:  # a free port for the server under test
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Bound to every address: loopback on its port is its own address.
    client = await app_with(port=port, host="0.0.0.0", insecure_no_auth=True)
    assert client.server.port == port
    own = f"127.0.0.1:{port}"
    task = await run_one(client, f"http://{own}/api/metadata/taskdefs")
    assert task["reasonForIncompletion"] == blocked(own, "this server's own address")
    assert "call" not in str(task["outputData"])  # the task definitions were not read
    allowed = await listener()
    task = await run_one(client, allowed.url(f"/redirect?to=http://localhost:{port}/api/x"))
    assert task["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert task["reasonForIncompletion"].startswith(
        "HTTP task blocked by egress policy: localhost ("
    )
    assert task["reasonForIncompletion"].endswith("is denied (this server's own address)")


async def test_status_webhooks_obey_the_policy(app_with, listener, clock) -> None:
    allowed, denied = await listener(), await listener()
    client = await app_with(http_deny=(f"127.0.0.1:{denied.port}",))
    noop = {"name": "n", "taskReferenceName": "n", "type": "NOOP"}
    for name, sink in (("to_denied", denied), ("to_allowed", allowed)):
        definition = {
            "name": name,
            "tasks": [noop],
            "workflowStatusListenerEnabled": True,
            "workflowStatusListenerSink": f"webhook:{sink.url('/hook')}",
        }
        await register_workflow(client, definition)
        await start(client, name)
    await fire_timers(client)
    assert allowed.hits == ["/hook"]
    clock.advance(60)  # the refused one is tried again later, and refused again
    await fire_timers(client)
    assert denied.hits == []
