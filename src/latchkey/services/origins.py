"""Rules for RP IDs and expected origins (WebAuthn §5.1.2, §13.4.9)."""

from __future__ import annotations

import binascii
import ipaddress
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections import Counter
from urllib.parse import urlsplit

from latchkey.errors import ConfigError, Problem
from latchkey.services.association import is_public_suffix, registrable_domain

ANDROID_PREFIX = "android:apk-key-hash:"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCALHOST = "localhost"


def validate_rp_id(rp_id: str) -> str:
    """An RP ID is a lower-case registrable domain (or localhost), never an IP or a URL."""
    if not rp_id or rp_id != rp_id.strip().lower():
        raise ConfigError(f"RP ID {rp_id!r} must be a lower-case domain name like example.com")
    if "://" in rp_id or "/" in rp_id or ":" in rp_id:
        raise ConfigError(f"RP ID {rp_id!r} must be a bare domain (no scheme, port or path)")
    if _is_ip(rp_id):
        raise ConfigError(f"RP ID {rp_id!r} is an IP address; WebAuthn needs a domain name")
    if len(rp_id) > 253 or not all(_LABEL.match(label) for label in rp_id.split(".")):
        raise ConfigError(f"RP ID {rp_id!r} is not a valid domain name")
    # Browsers refuse an RP ID that is a public suffix (HTML "is a registrable domain suffix of
    # or is equal to", step 4, which WebAuthn §5.1.3 and §5.1.4 apply): no passkey for it works.
    if is_public_suffix(rp_id):
        raise ConfigError(
            f"RP ID {rp_id!r} is a public suffix (anyone can register names under it): use your"
            f" own domain, such as example.{rp_id}"
        )
    return rp_id


def validate_origin(origin: str, rp_id: str) -> str:
    """A web origin on the RP ID or a subdomain of it, or an Android app's signing-key hash."""
    if origin.startswith(ANDROID_PREFIX):
        return _validate_android_origin(origin)
    host = _web_origin_host(origin)
    if host != rp_id and not host.endswith("." + rp_id):
        raise ConfigError(
            f"origin {origin!r}: host {host!r} is neither the RP ID {rp_id!r} nor a subdomain of it"
            " (an origin on another domain is a related origin: --related-origin)"
        )
    return origin


def validate_related_origins(origins: list[str] | tuple[str, ...], rp_id: str) -> tuple[str, ...]:
    """Origins on other registrable domains that may use the RP ID through WebAuthn Related
    Origin Requests (§5.11): https, off the RP ID, and at most 5 registrable domains, the
    fewest labels browsers must honour."""
    checked = []
    for origin in origins:
        host = _web_origin_host(origin)
        if host == rp_id or host.endswith("." + rp_id):
            raise ConfigError(f"related origin {origin!r} is on the RP ID: list it as an origin")
        if not origin.startswith("https://"):
            raise ConfigError(f"related origin {origin!r} must use https://")
        checked.append(origin)
    if len({registrable_domain(o) for o in checked}) > 5:
        raise ConfigError("related origins may span at most 5 registrable domains")
    for origin, times in Counter(checked).items():
        if times > 1:
            raise ConfigError(f"related origin {origin!r} is listed twice")
    return tuple(checked)


def _web_origin_host(origin: str) -> str:
    """The host of a well-formed web origin, as browsers serialize origins."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"origin {origin!r} must be scheme://host[:port] only (no path, query or user)"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"origin {origin!r} has an invalid port") from exc
    if parts.scheme == "http":
        if host != _LOCALHOST and not host.endswith("." + _LOCALHOST):
            raise ConfigError(
                f"origin {origin!r} uses http://, allowed only for localhost; use https://"
            )
    elif parts.scheme != "https":
        raise ConfigError(f"origin {origin!r} must start with https:// (or http://localhost)")
    if origin != origin.lower():
        raise ConfigError(f"origin {origin!r} must be lower-case, as browsers serialize it")
    default_port = 443 if parts.scheme == "https" else 80
    if port == default_port:
        raise ConfigError(f"origin {origin!r} names the default port; browsers omit it")
    return host


def validate_origins(origins: list[str] | tuple[str, ...], rp_id: str) -> tuple[str, ...]:
    """The origins, or one error naming every bad one (and each one listed twice), so that
    a list is fixed in one pass rather than an origin at a time."""
    if not origins:
        raise ConfigError("at least one expected origin is needed")
    problems = []
    for origin in origins:
        try:
            validate_origin(origin, rp_id)
        except ConfigError as exc:
            problems.append(Problem("origins", exc.message))
    for origin, times in Counter(origins).items():
        if times > 1:
            problems.append(Problem("origins", f"origin {origin!r} is listed twice"))
    if problems:
        raise ConfigError.of(problems)
    return tuple(origins)


def android_origin(sha256_fingerprint: bytes) -> str:
    return ANDROID_PREFIX + urlsafe_b64encode(sha256_fingerprint).rstrip(b"=").decode()


def _validate_android_origin(origin: str) -> str:
    value = origin[len(ANDROID_PREFIX) :]
    try:
        digest = urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"origin {origin!r}: the APK key hash is not base64url") from exc
    if len(digest) != 32 or "=" in value or android_origin(digest) != origin:
        raise ConfigError(
            f"origin {origin!r}: the APK key hash must be the unpadded base64url"
            " of a 32-byte SHA-256 signing-certificate fingerprint"
        )
    return origin


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
