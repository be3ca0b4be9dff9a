"""CORS for the browser-facing client API, from the tenants' own origin lists.

A preflight carries no credentials, so it cannot name its tenant: it passes when the origin is
a web origin of some tenant. The call itself is then held to its own tenant's origins by the
client API (`OriginNotAllowed`), so a browser on tenant B's site cannot act on tenant A.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import cast

import orjson
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

from latchkey.errors import LatchkeyError

PREFIX = "/v1/client/"
ALLOWED_HEADERS = frozenset({"authorization", "content-type"})
ALLOWED_METHODS = "GET, POST, OPTIONS"
MAX_AGE = "600"


class OriginIndex:
    """Every tenant's web origins, reloaded at most once a second on a miss and every `ttl`
    seconds otherwise, so new origins apply quickly and random origins cannot flood the
    database."""

    def __init__(self, load: Callable[[], frozenset[str]], ttl: float = 30.0) -> None:
        self._load = load
        self._ttl = ttl
        self._origins: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def __contains__(self, origin: object) -> bool:
        age = time.monotonic() - self._loaded_at
        if age > self._ttl or (origin not in self._origins and age > 1.0):
            self._reload()
        return origin in self._origins

    def _reload(self) -> None:
        with self._lock:
            # The database is away: keep the last known list until it returns.
            with contextlib.suppress(LatchkeyError):
                self._origins = self._load()
            self._loaded_at = time.monotonic()


class ClientCors:
    def __init__(self, app: ASGIApp, *, origins: OriginIndex) -> None:
        self.app = app
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if (
            cast("HTTPScope", scope)["method"] == "OPTIONS"
            and b"access-control-request-method" in headers
        ):
            await self._preflight(origin, headers, send)
            return
        if not origin or origin not in self.origins:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *allow_headers(origin)]
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(self, origin: str, headers: dict[bytes, bytes], send: Send) -> None:
        requested = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        wanted = {h.strip().lower() for h in requested.split(",") if h.strip()}
        method = headers[b"access-control-request-method"].decode("latin-1").upper()
        if (
            origin
            and origin in self.origins
            and wanted <= ALLOWED_HEADERS
            and method
            in (
                "GET",
                "POST",
            )
        ):
            extra = [
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ", ".join(sorted(ALLOWED_HEADERS)).encode()),
                (b"access-control-max-age", MAX_AGE.encode()),
            ]
            await _answer(send, 204, b"", [*allow_headers(origin), *extra])
            return
        body = orjson.dumps(
            {
                "error": "forbidden",
                "errorCode": "origin_not_allowed",
                "errorDescription": "this origin, method or header may not call the client API",
            }
        )
        await _answer(send, 403, body, [(b"content-type", b"application/json"), _VARY])


_VARY = (b"vary", b"Origin")


def allow_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        _VARY,
    ]


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)
