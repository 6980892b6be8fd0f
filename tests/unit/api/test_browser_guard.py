"""Which writes count as coming from another site's page."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from conductor.api.browser_guard import cross_origin_reason


def _request(headers: dict[str, str]):
    return make_mocked_request(
        "POST", "/api/workflow/wf", headers={"Host": "localhost:8080", **headers}
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},  # an SDK, curl
        {"Origin": "http://localhost:8080"},
        {"Origin": "HTTP://LOCALHOST:8080"},
        {"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed in the address bar
    ],
)
def test_same_origin_and_non_browser_writes_pass(headers: dict[str, str]) -> None:
    assert cross_origin_reason(_request(headers)) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:8081"},  # another port is another origin
        {"Origin": "https://localhost"},
        {"Origin": "null"},  # sandboxed frames, file: pages
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_other_origins_are_refused(headers: dict[str, str]) -> None:
    assert cross_origin_reason(_request(headers)) is not None


def test_allowed_origins_may_write() -> None:
    request = _request({"Origin": "https://ops.example.com"})
    assert cross_origin_reason(request, ["https://ops.example.com"]) is None
    assert cross_origin_reason(request, ["https://other.example.com"]) is not None
