"""SSO sessions of the hosted pages: one per signed-in browser and tenant, shared by its apps
(the OIDC provider skips the sign-in page while it is valid). The cookie holds a random token;
only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection

from latchkey.ids import new_id, new_token
from latchkey.models import SsoSession
from latchkey.runtime import Runtime
from latchkey.store import sso_sessions as session_store

LIFETIME = timedelta(hours=12)
COOKIE_PREFIX = "latchkey_sso_"


@dataclass(frozen=True)
class Opened:
    session: SsoSession
    token: str


def cookie_name(tenant_id: str) -> str:
    return COOKIE_PREFIX + tenant_id


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def open_session(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    user_id: str,
    amr: list[str],
    credential_id: str | None,
) -> Opened:
    """A new session; `credential_id` names the passkey that signed in (None: a password), so
    that deleting it ends the session (services/access.py)."""
    now = rt.now()
    token = new_token(32)
    session = SsoSession(
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        token_hash=_digest(token),
        amr=amr,
        auth_time=now,
        created_at=now,
        expires_at=now + LIFETIME,
        revoked_at=None,
        credential_id=credential_id,
    )
    session_store.add(conn, session)
    return Opened(session, token)


def find(conn: Connection, rt: Runtime, tenant_id: str, token: str | None) -> SsoSession | None:
    """The browser's live session at this tenant, or None (absent, unknown, ended)."""
    if not token or len(token) > 100:
        return None
    return session_store.active(conn, tenant_id=tenant_id, token_hash=_digest(token), now=rt.now())


def current(rt: Runtime, tenant_id: str, token: str | None) -> SsoSession | None:
    if not token or len(token) > 100:
        return None
    with rt.read() as conn:
        return find(conn, rt, tenant_id, token)


def close(rt: Runtime, session: SsoSession) -> None:
    with rt.transaction() as conn:
        session_store.revoke(conn, session_id=session.id, now=rt.now())
