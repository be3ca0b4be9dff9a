"""SSO session rows, found by the SHA-256 of the browser's cookie."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, select, update

from latchkey.models import SsoSession
from latchkey.store.tables import sso_sessions


def _record(row: Any) -> SsoSession:
    return SsoSession(**{c.name: row._mapping[c.name] for c in sso_sessions.c})


def add(conn: Connection, session: SsoSession) -> None:
    conn.execute(insert(sso_sessions).values(**asdict(session)))


def active(
    conn: Connection, *, tenant_id: str, token_hash: bytes, now: datetime
) -> SsoSession | None:
    query = select(sso_sessions).where(
        sso_sessions.c.token_hash == token_hash,
        sso_sessions.c.tenant_id == tenant_id,
        sso_sessions.c.revoked_at.is_(None),
        sso_sessions.c.expires_at > now,
    )
    row = conn.execute(query).first()
    return _record(row) if row else None


def _revoke(conn: Connection, which: ColumnElement[bool], now: datetime) -> int:
    result = conn.execute(
        update(sso_sessions)
        .where(which, sso_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount


def revoke(conn: Connection, *, session_id: str, now: datetime) -> bool:
    return _revoke(conn, sso_sessions.c.id == session_id, now) == 1


def revoke_for_user(conn: Connection, *, user_id: str, now: datetime) -> int:
    return _revoke(conn, sso_sessions.c.user_id == user_id, now)


def revoke_for_credential(conn: Connection, *, credential_id: str, now: datetime) -> int:
    """End the sessions this passkey's sign-ins opened."""
    return _revoke(conn, sso_sessions.c.credential_id == credential_id, now)


def get(conn: Connection, session_id: str) -> SsoSession | None:
    row = conn.execute(select(sso_sessions).where(sso_sessions.c.id == session_id)).first()
    return _record(row) if row else None
