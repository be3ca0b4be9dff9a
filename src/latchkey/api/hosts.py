"""The Host header: checked before anything reads it, and never trusted for more than choosing a
tenant by one of its proved domains.

RFC 9112 §3.2: a request whose Host is not a valid field value (or that carries two) gets a 400.
Valid here: a DNS name (letters, digits, `-`, `_`, dots; labels of 1 to 63 characters, 253 in
all), an IPv4 address or a bracketed IPv6 address, then an optional `:port` of digits up to
65535 (RFC 9110 §7.2, RFC 3986 §3.2.2). Issuer URLs are built from the tenant's stored domain,
never from the header (see api/site.py).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from litestar.types import ASGIApp, Receive, Scope, Send

from latchkey.errors import InvalidRequest

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
_PORT = re.compile(r"[0-9]{0,5}")
# Names a browser treats as this machine, reached over plain http when testing locally.
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


class InvalidHost(InvalidRequest):
    code = "invalid_host"


@dataclass(frozen=True)
class Host:
    name: str  # lower case, no trailing dot; an IPv6 address keeps its brackets
    port: int | None

    @property
    def is_local(self) -> bool:
        return self.name in LOCAL_NAMES or self.name.endswith(".localhost")


def parse(raw: bytes) -> Host | None:
    """The host and port of a Host value, or None when it is not a valid one."""
    return _parse(raw) if len(raw) <= 261 else None


@lru_cache(maxsize=1024)  # every request asks: a server's few hosts are parsed once
def _parse(raw: bytes) -> Host | None:
    try:
        text = raw.decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    if text.startswith("["):
        name, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        name, port = f"[{name}]", port[1:]
    else:
        name, _, port = text.partition(":")
        if len(name) > 254 or not _NAME.fullmatch(name):
            return None
    if not _PORT.fullmatch(port) or (port and int(port) > 65535):
        return None
    return Host(name.rstrip("."), int(port) if port else None)


def of(scope: Scope) -> Host | None:
    """The request's Host (None when it sent none, as HTTP/1.0 may); InvalidHost when it is not
    valid or appears twice."""
    found = None
    for name, value in scope["headers"]:
        if name == b"host":
            if found is not None:
                raise InvalidHost("the Host header is not a valid host name and port")
            found = value
    if found is None:
        return None
    host = parse(found)
    if host is None:
        raise InvalidHost("the Host header is not a valid host name and port")
    return host


class HostCheck:
    """App middleware: a request with a malformed Host is refused (400 invalid_host, in the
    surface's shape) before any handler reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            of(scope)
        await self.app(scope, receive, send)
