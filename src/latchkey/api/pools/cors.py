"""Who may call the identity-pool JSON endpoints from a browser (issue 21 item 5, issue 18
item 18).

The hosted pages call them from Latchkey's own origin. A custom login UI on one of the
tenant's web origins may call them too: its preflight is answered (the path names the tenant,
so each tenant's own origin list decides) and its answers carry CORS headers with credentials,
so the flow and SSO cookies go along. Every other origin gets no CORS headers, and a
state-changing call from it (POST, PATCH, DELETE with an `Origin` that is neither the
tenant's nor Latchkey's own) is refused before it runs: CORS alone would only hide the answer
after the call had done its work. A state-changing call may not come as `text/plain`, a form
or multipart either, whatever its origin: those are the bodies a page on any site can send
without a preflight.
"""

from __future__ import annotations

import re
from email.message import Message as MimeHeader
from typing import cast
from urllib.parse import urlsplit

import orjson
from anyio import to_thread
from litestar.types import (
    ASGIApp,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

from latchkey.api.cors import _answer
from latchkey.errors import LatchkeyError
from latchkey.runtime import Runtime
from latchkey.services import tenants

_POOL_PATH = re.compile(r"^/([^/]+)/identity/[^/]+/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = frozenset({"content-type"})
MAX_AGE = "600"
# The bodies a cross-site <form> (or a no-cors fetch) can send without a preflight.
_SIMPLE_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)


class PoolCors:
    def __init__(self, app: ASGIApp, *, rt: Runtime) -> None:
        self.app = app
        self.rt = rt
        self.own_origin = _origin_of(rt.public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _POOL_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        http = cast("HTTPScope", scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in http["headers"]}
        origin = headers.get("origin")
        method = http["method"]
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(matched.group(1), origin, headers, send)
            return
        tenant_origin = origin is not None and await self._is_tenant_origin(
            matched.group(1), origin
        )
        if method not in SAFE_METHODS:
            refusal = self._refusal(origin, tenant_origin, headers)
            if refusal is not None:
                await _pool_error(send, *refusal)
                return
        if not tenant_origin or origin is None:
            await self.app(scope, receive, send)
            return
        allow = _allow(origin)

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *allow]
            await send(message)

        await self.app(scope, receive, with_cors)

    def _refusal(
        self, origin: str | None, tenant_origin: bool, headers: dict[str, str]
    ) -> tuple[int, str, str] | None:
        """Why a state-changing call may not run, or None."""
        if origin is not None and not tenant_origin and not self._same_origin(origin, headers):
            return 403, "origin_not_allowed", f"{origin} may not call this pool's endpoints"
        if _media_type(headers.get("content-type")) in _SIMPLE_TYPES:
            return 415, "unsupported_media_type", "send the body as application/json"
        return None

    def _same_origin(self, origin: str, headers: dict[str, str]) -> bool:
        """The hosted pages' own calls: Latchkey's public origin, or the host this request was
        sent to (the browser sets Host; a page elsewhere cannot make it match its Origin)."""
        if origin == self.own_origin:
            return True
        parts = urlsplit(origin)
        return bool(parts.netloc) and parts.netloc == headers.get("host", "").lower()

    async def _is_tenant_origin(self, tenant_id: str, origin: str) -> bool:
        try:
            tenant = await to_thread.run_sync(tenants.get, self.rt, tenant_id)
        except LatchkeyError:  # an unknown tenant has no origins; the route says it is unknown
            return False
        return origin in tenant.web_origins

    async def _preflight(
        self, tenant_id: str, origin: str | None, headers: dict[str, str], send: Send
    ) -> None:
        requested = headers.get("access-control-request-headers", "")
        wanted = {h.strip().lower() for h in requested.split(",") if h.strip()}
        method = headers["access-control-request-method"].upper()
        if (
            origin
            and await self._is_tenant_origin(tenant_id, origin)
            and wanted <= ALLOWED_HEADERS
            and method in {m.strip() for m in ALLOWED_METHODS.split(",")}
        ):
            extra = [
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ", ".join(sorted(ALLOWED_HEADERS)).encode()),
                (b"access-control-max-age", MAX_AGE.encode()),
            ]
            await _answer(send, 204, b"", [*_allow(origin), *extra])
            return
        await _pool_error(
            send, 403, "origin_not_allowed", "this origin, method or header may not call this pool"
        )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _media_type(value: str | None) -> str:
    if not value:
        return ""
    header = MimeHeader()
    header["content-type"] = value
    return header.get_content_type()


def _allow(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


async def _pool_error(send: Send, status: int, code: str, message: str) -> None:
    """In the pools' error shape (api/errors.py POOL)."""
    body = orjson.dumps(
        {"error": message, "error_code": code, "status_code": status, "details": {}}
    )
    headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
    await _answer(send, status, body, headers)
