"""A lean runner for the sign-in hot path's JSON routes (options, verify, validate).

A route handler declared with `fast_post` stays an ordinary Litestar handler (same path,
signature, OpenAPI schema, app middleware, error mapping), and gets one more route middleware,
`FastJSON`, that serves the common case without Litestar's per-request machinery (signature
model, kwargs extraction, response object): it reads the body, decodes it straight into the
handler's msgspec body type, calls the same handler function with the same arguments in a
worker thread, and sends the JSON answer.

Anything else takes Litestar's own path, with the body replayed to it untouched: a body that
does not decode into the body type (Litestar then answers with its own 400 message), a body
over the size limit (413), a disconnect. So every error answer is the one Litestar gives, and
an exception raised by the handler goes through the same `ExceptionHandlerMiddleware` the route
uses (its surface's handlers), inside the app's middleware, so CORS and security headers apply.
The CORS middleware (ClientCors) and `before_send` hooks are the app's: they wrap this one.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import msgspec
from litestar import Request, post
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

# Tests switch it off to compare the two paths answer for answer.
ENABLED = True

_JSON_HEADERS = (b"content-type", b"application/json")
_DATA = "latchkey.fast_data"  # the decoded body, handed from __call__ to _serve in the scope
_encode = msgspec.json.Encoder().encode


class FastJSON:
    """Route middleware for a sync handler `fn(data, request) -> JSON-able` (see module doc)."""

    def __init__(self, app: ASGIApp, *, fn: Callable[..., Any], body: type[Any]) -> None:
        self.app = app  # Litestar's own path for this route (signature model, handler, response)
        self.fn = fn
        self.decode = msgspec.json.Decoder(body).decode
        self.fast = wrap_in_exception_handler(self._serve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not ENABLED or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route_handler = cast("HTTPRouteHandler", scope["route_handler"])
        limit = route_handler.resolve_request_max_body_size()
        declared = _content_length(scope)
        if declared is None or (limit is not None and declared > limit):
            await self.app(scope, receive, send)  # unreadable or too large: Litestar says so
            return
        received: list[ReceiveMessage] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                await self.app(scope, _replay(received, receive), send)
                return
            size += len(cast("bytes", message.get("body", b"")))
            if limit is not None and size > limit:
                await self.app(scope, _replay(received, receive), send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(cast("bytes", m.get("body", b"")) for m in received)
        try:
            data = self.decode(body)
        except (msgspec.DecodeError, RecursionError):
            # Not this route's body: Litestar gives the answer it always gave.
            await self.app(scope, _replay(received, receive), send)
            return
        cast("dict[str, Any]", scope)[_DATA] = data
        await self.fast(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        data = cast("dict[str, Any]", scope).pop(_DATA)
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        # As Litestar's sync_to_thread does it: the loop's default executor, the context copied.
        call = partial(contextvars.copy_context().run, self.fn, data, request)
        answer = await asyncio.get_running_loop().run_in_executor(None, call)
        payload = _encode(answer)
        start: Message = {
            "type": "http.response.start",
            "status": 200,
            "headers": [_JSON_HEADERS, (b"content-length", str(len(payload)).encode())],
        }
        await send(start)
        await send({"type": "http.response.body", "body": payload, "more_body": False})


def _content_length(scope: Scope) -> int | None:
    """The declared length; 0 when absent (a chunked body is read and measured); None when it is
    not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return 0


def _replay(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """A `receive` that gives back the messages already read, then continues with the real one."""
    pending = list(received)

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def fast_post(path: str, *, body: type[Any], **options: Any) -> Callable[[Any], HTTPRouteHandler]:
    """`@post(path, status_code=200, sync_to_thread=True, **options)` served by FastJSON.

    The handler must take exactly `(data, request)` and return something msgspec encodes the
    way Litestar does (dicts, lists, strings, numbers, booleans, None).
    """

    def decorate(fn: Callable[..., Any]) -> HTTPRouteHandler:
        handler = post(
            path,
            status_code=200,
            sync_to_thread=True,
            middleware=[partial(FastJSON, fn=fn, body=body)],
            **options,
        )
        return handler(fn)

    return decorate
