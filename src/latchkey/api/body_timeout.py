"""Slow request bodies are cut off: a client that opens a request and trickles (or withholds)
its body would otherwise hold a worker's connection and thread for as long as it likes. The
whole body must arrive within the budget; after that the request ends with 408 in its
surface's error shape. (Slow headers are a proxy's to cut off: see docs/deployment.md.)"""

from __future__ import annotations

import asyncio
import time

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from latchkey.errors import LatchkeyError


class RequestTimeout(LatchkeyError):
    code = "request_timeout"
    status = 408


class BodyTimeout:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.seconds

        async def bounded() -> ReceiveMessage:
            remaining = deadline - time.monotonic()
            try:
                return await asyncio.wait_for(receive(), timeout=max(remaining, 0.001))
            except TimeoutError as exc:
                raise RequestTimeout(
                    f"the request body did not arrive within {self.seconds:g} seconds"
                ) from exc

        await self.app(scope, bounded, send)
