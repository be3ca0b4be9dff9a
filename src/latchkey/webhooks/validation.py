"""What a webhook endpoint may be: its URL, its event-type filter, its description; and which
event kinds a filter lets through."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from latchkey.errors import InvalidRequest
from latchkey.event_kinds import AUDIT_WILDCARD, KINDS

MAX_URL_CHARS = 2048
MAX_DESCRIPTION_CHARS = 500
MAX_EVENT_TYPES = 50
MIN_SECRET_CHARS = 32  # as long as the tenant's secret key: at least 192 bits from a generator
MAX_SECRET_CHARS = 200
DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1", "::1")


def validate_url(url: str) -> str:
    """https, or http on this machine (development); no credentials or fragment in it."""
    url = url.strip() if isinstance(url, str) else ""
    bad = InvalidRequest(
        f"webhook URL {url!r} must be https://host/path (or http://localhost for development)",
        code="invalid_webhook_url",
    )
    if not url or len(url) > MAX_URL_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise bad from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.fragment or parts.port == 0:
        raise bad
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest(
            f"webhook URL {url!r} must not carry a user name or password (it is stored as is)",
            code="invalid_webhook_url",
        )
    if parts.scheme == "http" and host not in DEVELOPMENT_HOSTS:
        raise InvalidRequest(
            f"webhook URL {url!r} must use https (http only for localhost or 127.0.0.1)",
            code="invalid_webhook_url",
        )
    if not _host_ok(host):
        raise bad
    return url


def _host_ok(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.rstrip(".").split(".")
        return all(
            0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
            for label in labels
        )


def validate_event_types(types: Iterable[str]) -> tuple[str, ...]:
    """Known kinds, or `<namespace>.*` for every kind of a namespace; sorted, once each."""
    if isinstance(types, str):
        raise InvalidRequest("event types must be a list of event kinds", code="unknown_event_type")
    known = set(KINDS)
    namespaces = {kind.split(".", 1)[0] for kind in known} | {AUDIT_WILDCARD[:-2]}
    chosen: set[str] = set()
    for kind in types:
        if not isinstance(kind, str):
            raise InvalidRequest(f"event type {kind!r} is not a string", code="unknown_event_type")
        wildcard = kind.endswith(".*") and kind[:-2] in namespaces
        if not (wildcard or kind in known):
            raise InvalidRequest(
                f"event type {kind!r} is not one of {sorted(known)}"
                f" (or a namespace wildcard such as 'pool.*')",
                code="unknown_event_type",
            )
        chosen.add(kind)
    if len(chosen) > MAX_EVENT_TYPES:
        raise InvalidRequest(f"at most {MAX_EVENT_TYPES} event types", code="unknown_event_type")
    return tuple(sorted(chosen))


def validate_secret(secret: str) -> str:
    """A secret an operator gives: long, and printable ASCII without spaces, so the header's
    HMAC key is the same bytes in every SDK."""
    if (
        not isinstance(secret, str)
        or not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS
        or not all(33 <= ord(ch) <= 126 for ch in secret)
    ):
        raise InvalidRequest(
            f"a webhook secret is {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} printable ASCII"
            " characters without spaces",
            code="invalid_webhook_secret",
        )
    return secret


def validate_description(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequest(f"a description is at most {MAX_DESCRIPTION_CHARS} characters")
    return text


def matches(types: Sequence[str], kind: str) -> bool:
    """Whether an endpoint with this filter receives events of this kind."""
    return not types or kind in types or f"{kind.split('.', 1)[0]}.*" in types
