"""The sign-in hot path's three routes, served before Litestar: authentication options,
verify and validate.

Each is an exact path and method; the body is read once (within the body deadline and the size
limit) and decoded once into the route's msgspec struct. Anything this dispatcher does not
serve itself goes to Litestar unchanged (other paths, a body that does not decode, one too
large or cut short: Litestar then answers exactly as it always did, the body replayed to it).
The answers are the ones the Litestar routes give: the same handlers' functions build them,
errors are rendered by `errors.error_body` with Retry-After where it applies, CORS as
`ClientCors` adds it and the security headers as `add_security_headers` does.

Options run on the event loop (they write nothing). Verify checks the assertion on the loop and
awaits its write, queued for the group writer; validate's write is a writer job too. So no
request takes a thread-pool hop, and the writer lingers for requests still on their way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Generator, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar.datastructures import Address
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from latchkey.api import errors, hosts, security_headers
from latchkey.api.body_timeout import RequestTimeout
from latchkey.api.challenges import www_authenticate
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.cors import PREFIX as CORS_PREFIX
from latchkey.api.cors import OriginIndex, allow_headers
from latchkey.api.v1 import client, server
from latchkey.errors import LatchkeyError
from latchkey.runtime.group_commit import Expected
from latchkey.runtime.ratelimit import RateLimited
from latchkey.services import web

log = logging.getLogger("latchkey.api")

OPTIONS = "/v1/client/user-authenticators/passkey/authentication-options"
VERIFY = "/v1/client/verify/passkey"
VALIDATE = "/v1/validate"

_JSON = (b"content-type", b"application/json")
_encode = msgspec.json.Encoder().encode

Handler = Callable[[Any, Any, AnyRequest, Expected | None], Awaitable[Any]]


async def _options(who: client.Caller, data: Any, request: AnyRequest, _e: Any) -> Any:
    return client.options_for(who, data, request)


async def _verify(who: client.Caller, data: Any, request: AnyRequest, expected: Any) -> Any:
    pending = client.start_verify(who, data, request, expected)
    return client.verified(web.PendingSignIn.settled(await _committed(pending.future)))


async def _validate(_who: None, data: Any, request: AnyRequest, expected: Any) -> Any:
    job = server.validate_job(data, request)
    checked = await _committed(runtime(request).submit(job, expected))
    return server.validation(checked)


def _committed(future: Future[Any]) -> asyncio.Future[Any]:
    """The writer's future, awaitable on this loop. A writer on the loop resolves it on the
    loop's own thread: the waiting request is then woken at once, not through
    call_soon_threadsafe (which wrap_future always takes: a self-pipe write and read per
    request). A request cancelled meanwhile leaves the writer's future alone (its job commits
    with its group)."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    here = threading.get_ident()

    def resolved(done: Future[Any]) -> None:
        if threading.get_ident() == here:
            _settle(waiter, done)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(_settle, waiter, done)

    future.add_done_callback(resolved)
    return waiter


def _settle(waiter: asyncio.Future[Any], done: Future[Any]) -> None:
    if waiter.done():  # the request was cancelled
        return
    try:
        result = done.result()  # done: one look in the usual case (each takes its lock)
    except BaseException as error:
        if done.cancelled():
            waiter.cancel()
        else:
            waiter.set_exception(error)
    else:
        waiter.set_result(result)


def _nobody(_request: AnyRequest) -> None:
    return None


@dataclass(frozen=True)
class Route:
    decode: Callable[[bytes], Any]
    # Who calls, from the headers alone, before the body is read: a rate-limited caller is
    # refused without a body parse. Its other errors wait until the body decoded, so that a
    # malformed body is answered first, as Litestar answers it.
    admit: Callable[[AnyRequest], Any]
    handle: Handler
    writes: bool  # queues a write: the writer lingers for it while it is on its way


ROUTES = {
    OPTIONS: Route(
        msgspec.json.Decoder(client.AuthenticationOptionsBody).decode,
        client.anonymous_limited,
        _options,
        writes=False,
    ),
    VERIFY: Route(
        msgspec.json.Decoder(client.VerifyBody).decode,
        client.anonymous_limited,
        _verify,
        writes=True,
    ),
    VALIDATE: Route(
        msgspec.json.Decoder(server.ValidateBody).decode, _nobody, _validate, writes=True
    ),
}


class HotRoutes:
    """Serves ROUTES; hands every other request to `fallback` (the Litestar application)."""

    def __init__(
        self,
        fallback: ASGIApp,
        *,
        origins: OriginIndex,
        max_body_bytes: int,
        body_seconds: float,
    ) -> None:
        self.fallback = fallback
        self.origins = origins
        self.max_body_bytes = max_body_bytes
        self.body_seconds = body_seconds

    def route(self, scope: Scope) -> Route | None:
        route = ROUTES.get(scope.get("path", ""))
        if route is None or scope["type"] != "http" or scope.get("method") != "POST":
            return None
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send, route: Route) -> None:
        """`scope` must carry the Litestar app (`litestar_app`), as Litestar's own scope does."""
        request = cast("AnyRequest", HotRequest(scope))
        if route.writes:
            with runtime(request).writer.expect() as expected:
                answered = await self._answer(scope, receive, send, route, request, expected)
        else:
            answered = await self._answer(scope, receive, send, route, request, None)
        status, payload, retry_after = answered
        if status == 0:
            return  # Litestar answered
        headers = [_JSON, (b"content-length", b"%d" % len(payload))]
        if retry_after is not None:
            headers.append((b"retry-after", b"%d" % retry_after))
        if status == 401:
            description = str(msgspec.json.decode(payload).get("errorDescription", ""))
            challenge = www_authenticate(request.headers.get("authorization"), description)
            # First, where Litestar's own answer carries it (the answers match header by header).
            if challenge is not None:
                headers.insert(0, (b"www-authenticate", challenge.encode()))
        if scope["path"].startswith(CORS_PREFIX):
            origin = request.headers.get("origin")
            if origin and origin in self.origins:
                headers += allow_headers(origin)
        # As add_security_headers adds them: these answers set none of them.
        headers += (
            security_headers.ALL_WITH_HSTS if scope["scheme"] == "https" else security_headers.ALL
        )
        start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": payload, "more_body": False})

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        request: AnyRequest,
        expected: Expected | None,
    ) -> tuple[int, bytes, int | None]:
        """(status, body, Retry-After); status 0 when the request went to Litestar."""
        path = scope["path"]
        try:
            hosts.of(scope)  # a malformed Host is refused first, as HostCheck does
            if runtime(request).limiter.counter.waits:
                # Each hit waits on a round trip (Redis, a database transaction), which must
                # not hold up the loop.
                who, refused = await asyncio.to_thread(_admitted, route, request)
            else:  # counted in this process's memory: on the loop
                who, refused = _admitted(route, request)
            declared = _content_length(request.headers.get("content-length"))
            received = await self._read(declared, receive)
            try:
                data = route.decode(_joined(received))
            except (msgspec.DecodeError, RecursionError):
                raise _Declined(received) from None
            if refused is not None:
                raise refused
            answer = await route.handle(who, data, request, expected)
            return 200, _encode(answer), None
        except _Declined as declined:
            await self.fallback(scope, _replay(declined.received, receive), send)
            return 0, b"", None
        except LatchkeyError as error:
            retry = error.retry_after if isinstance(error, RateLimited) else None
            status, body = errors.V1.shape(error.status, error.code, error.message)
            return status, _encode(body), retry
        except Exception as exc:  # as the surface's own handler: logged, never shown
            log.error("unhandled error on POST %s", path, exc_info=exc)
            status, body = errors.V1.shape(500, "internal_error", "an unexpected error occurred")
            return status, _encode(body), None

    async def _read(self, declared: int | None, receive: Receive) -> list[ReceiveMessage]:
        """The whole body's messages (`declared`: its Content-Length, `_content_length`);
        _Declined (Litestar answers) when it is too large, its length unreadable, or the client
        went away."""
        if declared is None or declared > self.max_body_bytes:
            raise _Declined([])
        # Most bodies arrive with their headers: the first receive() then answers without
        # waiting, and no deadline is armed for it (its timer cost more than the read).
        arrived, waiting = _started(receive)
        if (
            arrived is not None
            and arrived["type"] == "http.request"
            and not arrived.get("more_body", False)
            and len(cast("bytes", arrived.get("body", b""))) <= self.max_body_bytes
        ):
            return [arrived]
        received: list[ReceiveMessage] = []
        size = 0
        # One deadline for the rest of the body (not a wait_for, a task, per message).
        try:
            async with asyncio.timeout(self.body_seconds):
                while True:
                    if arrived is not None:
                        message, arrived = arrived, None
                    else:
                        message = await (waiting or receive())
                        waiting = None
                    received.append(message)
                    if message["type"] != "http.request":
                        raise _Declined(received)
                    size += len(cast("bytes", message.get("body", b"")))
                    if size > self.max_body_bytes:
                        raise _Declined(received)
                    if not message.get("more_body", False):
                        return received
        except TimeoutError as exc:
            raise RequestTimeout(
                f"the request body did not arrive within {self.body_seconds:g} seconds"
            ) from exc


def _admitted(route: Route, request: AnyRequest) -> tuple[Any, LatchkeyError | None]:
    try:
        return route.admit(request), None
    except RateLimited:
        raise
    except LatchkeyError as error:
        return None, error


class HotRequest:
    """What the hot routes' functions read from a Litestar `Request` (`app`, `scope`,
    `headers.get`, `client`), taken from the ASGI scope once: a `Request` would build its
    case-insensitive multidict of every header, and its client `Address`, on each access."""

    __slots__ = ("app", "client", "headers", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.app = scope["litestar_app"]
        client = scope.get("client")
        self.client = Address(*client) if client else None
        self.headers = HotHeaders(scope["headers"])


# What the hot routes read of the headers: the caller (api/tenancy.by_client, the Origin check
# of api/v1/client.caller), the body's length, the event's user agent (context.request_meta).
_READ = frozenset((b"authorization", b"origin", b"content-length", b"user-agent"))
_KEYS = {name.decode(): name for name in _READ}


class HotHeaders:
    """`Headers.get` over the raw ASGI headers: the first of a repeated header, its name
    compared case-insensitively. The names in `_READ` are picked out in one pass over the
    headers (no other is decoded); any other name is looked for when asked."""

    __slots__ = ("_raw", "_read")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        read: dict[bytes, bytes] = {}
        for name, value in raw:
            # ASGI servers send lower-case names; another is compared lower-cased.
            if name in _READ or (not name.islower() and (name := name.lower()) in _READ):
                read.setdefault(name, value)
        self._read = read

    def get(self, name: str, default: str | None = None) -> str | None:
        key = _KEYS.get(name) or name.lower().encode("latin-1")
        if key in _READ:
            value = self._read.get(key)
        else:
            value = next((v for n, v in self._raw if n.lower() == key), None)
        return default if value is None else value.decode("latin-1")


class _Declined(Exception):
    """Not this dispatcher's to answer: Litestar gets the request, with what was read."""

    def __init__(self, received: list[ReceiveMessage]) -> None:
        super().__init__()
        self.received = received


def _joined(received: list[ReceiveMessage]) -> bytes:
    if len(received) == 1:  # the usual body, in one message
        return cast("bytes", received[0].get("body", b""))
    return b"".join(cast("bytes", m.get("body", b"")) for m in received)


def _content_length(value: str | None) -> int | None:
    """The declared length; 0 when absent (a chunked body is read and measured); None when it is
    not a number."""
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


async def _nothing() -> None:
    return None


def _steps_type() -> type:
    coroutine = _nothing()
    try:
        return type(coroutine.__await__())
    finally:
        coroutine.close()


# What `__await__` of an `async def` receive (uvicorn's, hypercorn's) gives: known to be a
# Generator without the ABC's isinstance.
_COROUTINE_STEPS = _steps_type()


def _started(receive: Receive) -> tuple[ReceiveMessage | None, Awaitable[ReceiveMessage] | None]:
    """`receive()` run up to its first wait: (the message, None) when it needed none, else
    (None, the rest of it to await)."""
    awaitable = receive()
    steps = awaitable.__await__()
    if type(steps) is not _COROUTINE_STEPS and not isinstance(steps, Generator):
        # The ASGI server's own awaitable (not a coroutine, e.g. granian's): awaited as is.
        return None, awaitable
    try:
        pending = steps.send(None)
    except StopIteration as arrived:
        return cast("ReceiveMessage", arrived.value), None
    return None, _Resumed(steps, pending)


class _Resumed:
    """The rest of an awaitable whose first step was taken (`_started`), awaited as `yield from`
    would: what it waits on goes to the task, and what the task sends or throws (a cancelled
    deadline) goes back into it."""

    def __init__(self, steps: Generator[Any, Any, ReceiveMessage], pending: Any) -> None:
        self._steps = steps
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, ReceiveMessage]:
        steps, pending = self._steps, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                steps.close()
                raise
            except BaseException as exc:  # handed on, as `yield from` does
                try:
                    pending = steps.throw(exc)
                except StopIteration as done:
                    return cast("ReceiveMessage", done.value)
            else:
                try:
                    pending = steps.send(sent)
                except StopIteration as done:
                    return cast("ReceiveMessage", done.value)


def _replay(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """A `receive` that gives back the messages already read, then continues with the real one."""
    pending = list(received)

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
