"""The HTTP client under its egress policy, against real local servers: denied destinations get
no connection, redirects are followed by hand and checked per hop, bodies are capped."""

from __future__ import annotations

import socket
from collections import Counter

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from conductor.engine.model import TaskStatus
from conductor.services.egress import EgressPolicy, parse_entries
from conductor.services.egress_network import EgressDenied, PolicyResolver
from conductor.services.http_task import HttpTaskClient

TERMINAL = TaskStatus.FAILED_WITH_TERMINAL_ERROR


@pytest.fixture
async def site(aiohttp_server):
    """A server that counts hits per path, redirects on demand and answers big bodies."""
    hits: Counter[str] = Counter()
    seen: list[dict] = []

    async def hit(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        seen.append(
            {
                "method": request.method,
                "body": await request.text(),
                "auth": request.headers.get("Authorization"),
            }
        )
        return web.json_response({"ok": True})

    async def redirect(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})

    async def chain(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        left = int(request.match_info["left"])
        if left == 0:
            return web.json_response({"done": True})
        return web.Response(status=302, headers={"Location": f"/chain/{left - 1}"})

    async def big(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        if not request.query.get("stream"):
            return web.Response(body=b"x" * size)
        response = web.StreamResponse()  # chunked: no Content-Length to go by
        await response.prepare(request)
        for _ in range(size // 1000):
            await response.write(b"y" * 1000)
        await response.write(b"y" * (size % 1000))
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/hit", hit)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_get("/chain/{left}", chain)
    app.router.add_get("/big", big)
    server = await aiohttp_server(app)
    return server, hits, seen


@pytest.fixture
async def other_site(aiohttp_server):
    hits: Counter[str] = Counter()

    async def hit(request: web.Request) -> web.StreamResponse:
        hits[f"{request.path} auth={request.headers.get('Authorization')}"] += 1
        return web.json_response({"secret": "taskdefs"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hit)
    server = await aiohttp_server(app)
    return server, hits


@pytest.fixture
async def make_client():
    clients: list[HttpTaskClient] = []

    def make(deny: tuple[str, ...] = (), **kw) -> HttpTaskClient:
        client = HttpTaskClient(EgressPolicy(deny=parse_entries(deny)), **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def get(url: str, method: str = "GET", **request) -> dict:
    return {"http_request": {"uri": url, "method": method, **request}}


async def test_a_denied_ip_gets_no_connection(site, make_client) -> None:
    server, hits, _ = site
    client = make_client(deny=(f"127.0.0.1:{server.port}",))
    status, output, reason = await client.call(get(f"http://127.0.0.1:{server.port}/hit"))
    assert status is TERMINAL
    assert reason == (
        f"HTTP task blocked by egress policy: 127.0.0.1:{server.port} is denied"
        f" (127.0.0.1:{server.port})"
    )
    assert output == {"response": reason}
    assert hits == Counter()
    status, _, _ = await client.call(get(f"http://[::ffff:127.0.0.1]:{server.port}/hit"))
    assert status is TERMINAL and hits == Counter()


async def test_a_hostname_is_checked_on_the_addresses_it_resolves_to(site, make_client) -> None:
    server, hits, _ = site
    client = make_client(deny=(f"127.0.0.0/8:{server.port}", f"[::1]:{server.port}"))
    status, _, reason = await client.call(get(f"http://localhost:{server.port}/hit"))
    assert status is TERMINAL
    assert reason is not None
    assert reason.startswith("HTTP task blocked by egress policy: localhost (")
    assert hits == Counter()


async def test_other_schemes_and_non_canonical_addresses_are_refused(site, make_client) -> None:
    server, hits, _ = site
    client = make_client()
    status, _, reason = await client.call(get("file:///etc/passwd"))
    assert status is TERMINAL and reason is not None and "scheme 'file'" in reason
    status, _, reason = await client.call(get(f"http://2130706433:{server.port}/hit"))
    assert status is TERMINAL and reason is not None and "not a valid IP address" in reason
    assert hits == Counter()


async def test_a_redirect_to_a_denied_destination_is_not_followed(
    site, other_site, make_client
) -> None:
    server, hits, _ = site
    denied, denied_hits = other_site
    target = f"http://127.0.0.1:{denied.port}/api/metadata/taskdefs"
    client = make_client(deny=(f"127.0.0.1:{denied.port}",))
    status, _, reason = await client.call(
        get(str(server.make_url("/redirect").with_query(to=target)))
    )
    assert status is TERMINAL
    assert reason == (
        f"HTTP task blocked by egress policy: 127.0.0.1:{denied.port} is denied"
        f" (127.0.0.1:{denied.port})"
    )
    assert hits["/redirect"] == 1 and denied_hits == Counter()
    # The same through a hostname: refused when resolved, still without a connection.
    via_name = f"http://localhost:{denied.port}/api/metadata/taskdefs"
    client = make_client(deny=(f"127.0.0.0/8:{denied.port}", f"[::1]:{denied.port}"))
    status, _, _ = await client.call(get(str(server.make_url("/redirect").with_query(to=via_name))))
    assert status is TERMINAL and denied_hits == Counter()
    # A redirect to another scheme is refused too.
    status, _, reason = await client.call(
        get(str(server.make_url("/redirect").with_query(to="file:///etc/passwd")))
    )
    assert status is TERMINAL and reason is not None and "scheme 'file'" in reason


async def test_at_most_five_redirects_are_followed(site, make_client) -> None:
    server, hits, _ = site
    client = make_client()
    status, output, reason = await client.call(get(str(server.make_url("/chain/2"))))
    assert status is TaskStatus.COMPLETED and reason is None
    assert output["response"]["body"] == {"done": True}
    status, _, _ = await client.call(get(str(server.make_url("/chain/5"))))
    assert status is TaskStatus.COMPLETED
    hits.clear()
    status, _, reason = await client.call(get(str(server.make_url("/chain/6"))))
    assert status is TaskStatus.FAILED
    assert reason == (
        "Failed to invoke HTTP task due to: more than 5 redirects"
        f" (the last to {server.make_url('/chain/0')})"
    )
    assert hits["/chain/0"] == 0 and sum(hits.values()) == 6


@pytest.mark.parametrize(
    ("code", "method", "then"),
    [
        (301, "POST", "GET"),
        (301, "PUT", "PUT"),
        (302, "POST", "GET"),
        (302, "DELETE", "GET"),
        (303, "PUT", "GET"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
    ],
)
async def test_redirects_change_the_method_as_browsers_do(
    site, make_client, code: int, method: str, then: str
) -> None:
    server, _, seen = site
    client = make_client()
    url = server.make_url("/redirect").with_query(to="/hit", status=str(code))
    status, _, _ = await client.call(get(str(url), method, body={"a": 1}))
    assert status is TaskStatus.COMPLETED
    assert seen == [{"method": then, "body": '{"a":1}' if then == method else "", "auth": None}]


async def test_credentials_stay_with_their_origin(site, other_site, make_client) -> None:
    server, _, seen = site
    other, other_hits = other_site
    client = make_client()
    headers = {"Authorization": "Bearer k"}
    same = server.make_url("/redirect").with_query(to="/hit")
    assert (await client.call(get(str(same), headers=headers)))[0] is TaskStatus.COMPLETED
    assert seen[-1]["auth"] == "Bearer k"
    away = server.make_url("/redirect").with_query(to=f"http://127.0.0.1:{other.port}/x")
    assert (await client.call(get(str(away), headers=headers)))[0] is TaskStatus.COMPLETED
    assert other_hits == Counter({"/x auth=None": 1})


@pytest.mark.parametrize("stream", ["", "1"])
async def test_a_body_over_the_cap_fails_the_task(site, make_client, stream: str) -> None:
    server, _, _ = site
    client = make_client(max_response_bytes=5000)
    url = server.make_url("/big")
    status, output, _ = await client.call(get(str(url.with_query(size="5000", stream=stream))))
    assert status is TaskStatus.COMPLETED and len(output["response"]["body"]) == 5000
    status, output, reason = await client.call(get(str(url.with_query(size="5001", stream=stream))))
    assert status is TERMINAL
    assert reason == (
        "HTTP task response body is larger than 5000 bytes (CONDUCTOR_HTTP_MAX_RESPONSE_BYTES)"
    )
    assert output == {"response": reason}


class _Answers(AbstractResolver):
    """DNS with fixed answers: what a rebinding name server might say."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for address in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_the_resolver_drops_denied_addresses_and_fails_when_none_is_left() -> None:
    policy = EgressPolicy()
    mixed = PolicyResolver(policy, _Answers("169.254.169.254", "::ffff:169.254.1.1", "192.0.2.9"))
    assert [r["host"] for r in await mixed.resolve("rebind.test", 80)] == ["192.0.2.9"]
    denied = PolicyResolver(policy, _Answers("169.254.169.254", "fe80::1%eth0"))
    with pytest.raises(EgressDenied) as raised:
        await denied.resolve("rebind.test", 80)
    assert str(raised.value.denial) == ("rebind.test (169.254.169.254) is denied (169.254.0.0/16)")
    nonsense = PolicyResolver(policy, _Answers("not-an-address"))
    with pytest.raises(EgressDenied, match="is not an IP address"):
        await nonsense.resolve("rebind.test", 80)


async def test_cookies_set_for_one_call_are_not_sent_by_the_next(aiohttp_server, make_client):
    cookies_seen: list[str | None] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        cookies_seen.append(request.headers.get("Cookie"))
        response = web.json_response({})
        response.set_cookie("session", "from-workflow-a")
        return response

    app = web.Application()
    app.router.add_get("/", answer)
    server = await aiohttp_server(app)
    client = make_client()
    for _ in range(2):
        status, _output, _reason = await client.call(get(f"http://localhost:{server.port}/"))
        assert status is TaskStatus.COMPLETED
    assert cookies_seen == [None, None]


async def test_headers_that_are_not_an_object_fail_the_task(site, make_client) -> None:
    server, hits, _ = site
    status, _output, reason = await make_client().call(
        get(f"http://127.0.0.1:{server.port}/hit", headers="X-Token: 1")
    )
    assert status is TERMINAL
    assert reason == "HTTP headers must be an object"
    assert hits["/hit"] == 0
