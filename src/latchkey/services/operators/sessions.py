"""Portal sessions: an HttpOnly, SameSite=Strict cookie holding 256 random bits, stored as
their SHA-256 with an absolute expiry; signing out revokes the row at once.

The CSRF token is derived from the session secret (HMAC-SHA256), so it is bound to the session,
needs no storage, and cannot be computed by a page that cannot read the HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from datetime import timedelta

from sqlalchemy import Connection

from latchkey.ids import new_id, new_token
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services.operators.accounts import OperatorAccount, secret_hash
from latchkey.store import operators as operator_store

COOKIE = "latchkey_portal"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_TTL = timedelta(hours=8)
_CSRF_LABEL = b"latchkey portal csrf v1"


def start(conn: Connection, rt: Runtime, operator_id: str, meta: RequestMeta) -> str:
    """A new session for the operator, in the caller's transaction; its secret (the cookie)."""
    secret = new_token(32)
    now = rt.now()
    operator_store.add_session(
        conn,
        id=new_id(),
        operator_id=operator_id,
        secret_hash=secret_hash(secret),
        created_at=now,
        expires_at=now + SESSION_TTL,
        ip=(meta.ip or "")[:64] or None,
        user_agent=(meta.user_agent or "")[:512] or None,
    )
    return secret


def _plausible(secret: str | None) -> bool:
    return bool(secret) and len(secret or "") <= 100


def authenticate(rt: Runtime, secret: str | None) -> OperatorAccount | None:
    """The operator of a live session, or None (no cookie, expired, revoked, disabled)."""
    if not secret or not _plausible(secret):
        return None
    with rt.read() as conn:
        row = operator_store.live_session(conn, secret_hash(secret), rt.now())
    return OperatorAccount.of(row) if row is not None else None


def end(rt: Runtime, secret: str | None) -> None:
    if secret and _plausible(secret):
        with rt.transaction() as conn:
            operator_store.revoke_session(conn, secret_hash(secret), rt.now())


def csrf_token(secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def csrf_matches(secret: str, sent: str | None) -> bool:
    if not sent:
        return False
    expected = csrf_token(secret).encode("ascii")
    return hmac.compare_digest(expected, sent.encode("utf-8", "replace"))
