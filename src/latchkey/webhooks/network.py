"""Where a webhook may be sent.

An endpoint's URL is an operator's input, and a tenant's operator must not use it to reach
Latchkey's own machine or its private network (blind SSRF). So each attempt resolves the host
once, refuses addresses that are not globally routable unless LATCHKEY_WEBHOOK_PRIVATE_NETWORKS
is `allow`, and connects to the very address it checked (a second DNS answer cannot swap it),
keeping the URL's host for the Host header and for TLS (SNI and the certificate's name check).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The receiver's address is not one webhooks may go to, or does not resolve."""


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (CGNAT), reserved
    or multicast; an IPv4-mapped IPv6 address is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve ({exc})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def pinned(url: str, *, allow_private: bool) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of its host, the Host header to send, and
    the request extensions (the TLS server name); Refused if the address may not be used."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    addresses = resolve(host, parts.port or (443 if https else 80))
    if not allow_private:
        for address in addresses:  # every answer, so a rotating DNS cannot slip one in
            if not is_public(address):
                raise Refused(
                    f"{host} is at {address}, a private or reserved address"
                    " (LATCHKEY_WEBHOOK_PRIVATE_NETWORKS=allow permits it)"
                )
    address = addresses[0]
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        netloc += f":{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rpartition("@")[2]
    return target, {"Host": host_header}, {"sni_hostname": host} if https else {}
