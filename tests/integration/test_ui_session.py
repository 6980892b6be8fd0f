"""The web UI with authentication on: signing in with a key, the session cookie, CSRF."""

from __future__ import annotations

import re

import pytest

from conductor.api.auth import SESSION_COOKIE
from conductor.roles import Role
from tests.integration.api import sequence
from tests.integration.auth_helpers import make_key

pytestmark = pytest.mark.integration


async def _sign_in(client, issued) -> str:
    """Sign in through the form; the page's CSRF token."""
    response = await client.post(
        "/login",
        data={"keyId": issued.key.key_id, "keySecret": issued.secret},
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()
    assert response.headers["Location"] == "/"
    page = await client.get("/executions")
    assert page.status == 200
    [token] = re.findall(r'name="csrf_token" value="([^"]+)"', await page.text())
    return token


async def test_without_keys_the_ui_needs_no_sign_in(client) -> None:
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/executions"
    assert (await client.get("/executions")).status == 200
    assert (await client.get("/login", allow_redirects=False)).status == 302


async def test_signing_in_sets_a_strict_http_only_cookie(client) -> None:
    viewer = await make_key(client, Role.VIEWER)
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"
    response = await client.post(
        "/login",
        data={"keyId": viewer.key.key_id, "keySecret": viewer.secret},
        allow_redirects=False,
    )
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    page = await (await client.get("/")).text()  # the executions page
    assert f"{viewer.key.key_id} (viewer)" in page
    assert "Workflow executions" in page
    assert "data-api=" not in page  # a viewer is offered no actions
    # The cookie works for the API the page calls.
    assert (await client.get("/api/metadata/workflow")).status == 200


async def test_a_wrong_secret_shows_the_form_again_escaped(client) -> None:
    await make_key(client, Role.VIEWER)
    response = await client.post(
        "/login", data={"keyId": "<script>alert(1)</script>", "keySecret": "nope"}
    )
    assert response.status == 401
    html = await response.text()
    assert "Unknown key or wrong secret" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SESSION_COOKIE not in response.cookies


async def test_the_page_shows_only_what_the_role_may_see(client) -> None:
    worker = await make_key(client, Role.WORKER)
    await make_key(client, Role.VIEWER)
    response = await client.post(
        "/login", data={"keyId": worker.key.key_id, "keySecret": worker.secret}
    )
    assert response.status == 403  # landed on the executions page, which it may not see
    page = await response.text()
    assert "Workflow executions" not in page
    assert "cannot view workflows" in page
    assert (await client.get("/api/metadata/workflow")).status == 403


async def test_cookie_writes_need_the_csrf_token(client) -> None:
    operator = await make_key(client, Role.OPERATOR)
    csrf = await _sign_in(client, operator)
    definition = sequence("from_ui", "a")
    refused = await client.post("/api/metadata/workflow", json=definition)
    assert refused.status == 403
    assert "CSRF" in (await refused.json())["message"]
    assert (await client.get("/api/metadata/workflow/from_ui")).status == 404
    wrong = await client.post(
        "/api/metadata/workflow", json=definition, headers={"X-CSRF-Token": csrf + "x"}
    )
    assert wrong.status == 403
    accepted = await client.post(
        "/api/metadata/workflow", json=definition, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status == 200


async def test_a_session_cookie_is_not_an_api_token(client) -> None:
    viewer = await make_key(client, Role.VIEWER)
    await _sign_in(client, viewer)
    session = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    client.session.cookie_jar.clear()
    response = await client.get("/api/metadata/workflow", headers={"X-Authorization": session})
    assert response.status == 401


async def test_signing_out_ends_the_session(client) -> None:
    viewer = await make_key(client, Role.VIEWER)
    csrf = await _sign_in(client, viewer)
    response = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert response.status == 302
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"
