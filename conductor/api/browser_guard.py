"""What keeps other web sites from using a browser as a way in.

A page on another site can make the browser send a POST to this server (a "simple" request
needs no CORS preflight). Browsers label such requests with Origin and Sec-Fetch-Site, so
writes from another origin are refused here; JSON bodies must also say application/json
(conductor/api/requests.py), which no simple request can. HTML gets headers that forbid inline
script, framing and content sniffing.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

from conductor.api.keys import SETTINGS
from conductor.api.middleware import Handler
from conductor.errors import Forbidden

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _origin_of(value: str) -> str | None:
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def cross_origin_reason(request: web.Request, allowed_origins: Iterable[str] = ()) -> str | None:
    """Why a write is refused as coming from another site's page, or None."""
    origin = request.headers.get("Origin")
    if origin is not None:
        normalized = _origin_of(origin)
        if normalized is None:
            return f"Origin {origin!r} is not allowed to write"
        own_host = (request.host or "").lower()
        if urlsplit(normalized).netloc == own_host:
            return None
        if normalized in {_origin_of(a) for a in allowed_origins}:
            return None
        return f"Origin {origin} is not allowed to write to {own_host}"
    # Without Origin, a browser still says whether the request crossed sites.
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return "Cross-site request refused"
    return None


@web.middleware
async def same_origin_writes(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE_METHODS:
        reason = cross_origin_reason(request, request.app[SETTINGS].allowed_origins)
        if reason is not None:
            raise Forbidden(reason)
    return await handler(request)


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: set on every answer, errors included."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", _CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
