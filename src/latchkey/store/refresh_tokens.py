"""Refresh token rows, looked up by the SHA-256 of the token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.store.tables import refresh_tokens


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(refresh_tokens).values(**values))


def get(conn: Connection, token_hash: bytes) -> Any:
    return conn.execute(
        select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
    ).first()


def mark_used(conn: Connection, token_hash: bytes, when: datetime) -> bool:
    """Rotate: True for the one caller that used the token first."""
    result = conn.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.token_hash == token_hash,
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(used_at=when)
    )
    return result.rowcount == 1


def revoke_family(conn: Connection, family_id: str, when: datetime) -> None:
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )


def revoke_for_user(conn: Connection, user_id: str, when: datetime) -> int:
    """Revoke every live refresh token of the user (disabled, or recovered)."""
    result = conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )
    return result.rowcount


def revoke_for_credential(conn: Connection, credential_id: str, when: datetime) -> int:
    """Revoke every live refresh token of the families this passkey's sign-ins started (the
    credential id is carried along each rotation, so this reaches the newest token too)."""
    result = conn.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.credential_id == credential_id,
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=when)
    )
    return result.rowcount
