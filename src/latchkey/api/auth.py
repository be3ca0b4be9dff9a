"""Reading a tenant's secret key from the Authorization header (HTTP Basic user name, or
Bearer); api/tenancy.py resolves the tenant it names."""

from __future__ import annotations

from base64 import b64decode

from latchkey.errors import InvalidApiKey


def basic_pair(value: str) -> tuple[str, str]:
    """User name and password of HTTP Basic credentials (strict base64); ValueError if not."""
    user, _, password = b64decode(value.strip(), validate=True).decode().partition(":")
    return user, password


def secret_from_header(header: str | None) -> str:
    """`Basic base64(secret:)` (the secret as user name, empty password) or `Bearer secret`."""
    if not header:
        raise InvalidApiKey("send the tenant's secret key as HTTP Basic user name")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            user, _password = basic_pair(value)
        except ValueError as exc:
            raise InvalidApiKey("the Basic credentials are not valid base64") from exc
        return user
    raise InvalidApiKey("use HTTP Basic or Bearer authentication with the secret key")
