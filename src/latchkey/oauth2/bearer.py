"""What a bearer-protected resource tells a caller whose token is missing or bad (RFC 6750 §3):
a `WWW-Authenticate: Bearer` challenge naming the error, so a client can tell an expired token
(get a new one) from a server fault."""

from __future__ import annotations

from latchkey.oauth2.errors import InvalidToken


def quoted(value: str) -> str:
    # RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E: no quote, no backslash.
    return "".join(c for c in value if 0x20 <= ord(c) <= 0x7E and c not in '"\\')


def challenge(realm: str, error: InvalidToken) -> str:
    return (
        f'Bearer realm="{quoted(realm)}", error="{error.code}",'
        f' error_description="{quoted(error.message)}"'
    )
