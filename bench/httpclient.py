"""Keep-alive HTTP/1.1 clients for the load generator: one connection per worker.

`raw` is a small asyncio protocol (POST with JSON, Content-Length or chunked answers, no
pipelining) that spends a few microseconds per request; `aiohttp` is the same interface over
aiohttp's client, kept to compare against. Both hold exactly one connection open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, cast

Headers = tuple[tuple[str, str], ...]
CLIENTS = ("raw", "aiohttp")


class HttpError(Exception):
    """The connection broke or the answer could not be read."""


class Connection(Protocol):
    async def post(self, path: str, body: bytes, headers: Headers) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


class _Reader(asyncio.Protocol):
    """Reads one response at a time off a keep-alive connection."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                parsed = _parse(self.buffer)
            except HttpError as exc:
                self.waiter.set_exception(exc)
                return
            if parsed is not None:
                self.waiter.set_result(parsed)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc or 'closed by server'}"))


def _parse(buffer: bytearray) -> tuple[int, bytes, bool] | None:
    """(status, body, keep_alive) once a whole response is in `buffer` (then consumed)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).split(b"\r\n")
    try:
        status = int(head[0].split(b" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise HttpError(f"bad status line {head[0][:80]!r}") from exc
    length, chunked, keep_alive = -1, False, True
    for line in head[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
    start = end + 4
    if chunked:
        return _parse_chunked(buffer, start, status, keep_alive)
    if length < 0:
        length = 0  # answers without a length (204, 304) carry no body here
    if len(buffer) < start + length:
        return None
    body = bytes(buffer[start : start + length])
    del buffer[: start + length]
    return status, body, keep_alive


def _parse_chunked(
    buffer: bytearray, pos: int, status: int, keep_alive: bool
) -> tuple[int, bytes, bool] | None:
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buffer[pos:line_end]).split(b";")[0], 16)
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            if trailer_end < 0:
                return None
            del buffer[: trailer_end + 4]
            return status, bytes(body), keep_alive
        if len(buffer) < line_end + 2 + size + 2:
            return None
        body += buffer[line_end + 2 : line_end + 2 + size]
        pos = line_end + 2 + size + 2


class RawConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.host_header = f"Host: localhost:{port}\r\n"
        self.reader: _Reader | None = None
        self.prefixes: dict[tuple[str, Headers], bytes] = {}

    async def _connect(self) -> _Reader:
        loop = asyncio.get_running_loop()
        _, reader = await loop.create_connection(_Reader, self.host, self.port)
        self.reader = reader
        return reader

    async def post(self, path: str, body: bytes, headers: Headers) -> tuple[int, bytes]:
        reader = self.reader
        if reader is None or reader.closed:
            reader = await self._connect()
        prefix = self.prefixes.get((path, headers))
        if prefix is None:
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
            prefix = (
                f"POST {path} HTTP/1.1\r\n{self.host_header}{lines}"
                "Content-Type: application/json\r\nContent-Length: "
            ).encode()
            self.prefixes[(path, headers)] = prefix
        reader.waiter = asyncio.get_running_loop().create_future()
        assert reader.transport is not None
        reader.transport.write(prefix + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            status, answer, keep_alive = await reader.waiter
        except BaseException:
            await self.close()
            raise
        finally:
            reader.waiter = None
        if not keep_alive:
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self.reader is not None and self.reader.transport is not None:
            self.reader.transport.close()
        self.reader = None


class AiohttpConnection:
    def __init__(self, host: str, port: int) -> None:
        import aiohttp

        self.base = f"http://{host}:{port}"
        self.aiohttp = aiohttp
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, force_close=False),
            skip_auto_headers=("User-Agent",),
        )

    async def post(self, path: str, body: bytes, headers: Headers) -> tuple[int, bytes]:
        given = dict(headers)
        given["Content-Type"] = "application/json"
        try:
            async with self.session.post(self.base + path, data=body, headers=given) as answer:
                return answer.status, await answer.read()
        except self.aiohttp.ClientError as exc:
            raise HttpError(str(exc)) from exc

    async def close(self) -> None:
        await self.session.close()


def connector(kind: str, host: str, port: int) -> Callable[[], Connection]:
    """A factory of connections of this kind to host:port (nothing is opened until used)."""
    if kind == "raw":
        return lambda: RawConnection(host, port)
    if kind == "aiohttp":
        return lambda: AiohttpConnection(host, port)
    raise ValueError(f"unknown HTTP client {kind!r}: one of {', '.join(CLIENTS)}")
