"""The access log: one line per request (client, method, path, status, time), on by default in
development and set with LATCHKEY_ACCESS_LOG. Query strings are never written: OAuth's carry
state, PKCE challenges and login hints, a mailed recovery link its token; a request that had one
shows `?…`. Nor are headers or bodies. An ASGI wrapper around the whole app, so answers no route
gave (404s, CORS preflights, static files) are logged too."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("latchkey.access")

_MAX_PATH = 200


class AccessLog:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                '%s "%s %s%s" %s %.1f ms',
                (scope.get("client") or ("-",))[0],
                scope.get("method", "-"),
                _path(scope),
                "?…" if scope.get("query_string") else "",
                status or "-",
                (time.perf_counter() - started) * 1000,
            )


def _path(scope: Any) -> str:
    """The path as sent (percent-encoded, so no control character reaches the log)."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("unicode_escape")
    text = raw.decode("ascii", "backslashreplace")
    return text if len(text) <= _MAX_PATH else text[:_MAX_PATH] + "…"
