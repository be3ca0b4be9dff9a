"""The `WWW-Authenticate` challenge of a 401 (RFC 9110 §11.6.1 and §15.5.2: a 401 MUST carry
one) on the surfaces that authenticate with an Authorization header: /v1 (Basic with the secret
key or the tenant id, Bearer with an action token), the ceremony API and the management API
(Bearer operator tokens or Basic). A caller that sent a Bearer token is told why it failed
(RFC 6750 §3: `error="invalid_token"` and a description). The OAuth surface has its own
(oauth2/bearer.py, api/issuer/)."""

from __future__ import annotations

from latchkey.oauth2.bearer import quoted

REALM = "latchkey"


def www_authenticate(authorization: str | None, message: str) -> str | None:
    """The challenge for a refused Bearer token; None otherwise. A Basic challenge is never
    sent: browsers answer one with a native sign-in dialog, even to fetch() (the portal's and
    the Web SDK's calls would hang behind it)."""
    scheme = (authorization or "").split(" ", 1)[0].lower()
    if scheme != "bearer":
        return None
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{quoted(message)}"'
