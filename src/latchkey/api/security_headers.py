"""Security headers on every answer (pages, API, static files, errors, CORS preflights):
`nosniff`, no framing, no referrer, `no-store` unless a route chose its own caching, a
restrictive CSP where a route set none (the hosted pages set theirs), and HSTS over TLS."""

from __future__ import annotations

from litestar.types import Message, Scope

HSTS = b"max-age=63072000; includeSubDomains"
_DEFAULTS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # An API answer is data, never a document: nothing may load from or frame it.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    # Answers carry tokens and personal data unless the route says they may be cached.
    (b"cache-control", b"no-store"),
)


# Every default, for an answer that sets none of them itself (api/hot_routes.py's): plain, and
# over TLS.
ALL = (*_DEFAULTS,)
ALL_WITH_HSTS = (*_DEFAULTS, (b"strict-transport-security", HSTS))


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: it sees every answer, also the router's own 404 and 405."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers += [(n, v) for n, v in _DEFAULTS if n not in present]
    if scope.get("scheme") == "https" and b"strict-transport-security" not in present:
        headers.append((b"strict-transport-security", HSTS))
    message["headers"] = headers
