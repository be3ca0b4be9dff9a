"""Access tokens revoked before their expiry (RFC 7009), by their `jti`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from latchkey.store.tables import revoked_access_tokens as revoked


def add(conn: Connection, *, jti: str, tenant_id: str, expires_at: datetime, now: datetime) -> None:
    """Remember a revoked token until it expires; rows whose tokens expired anyway go first,
    so the table never holds more than an hour of revocations."""
    conn.execute(delete(revoked).where(revoked.c.expires_at <= now))
    if conn.execute(select(revoked.c.jti).where(revoked.c.jti == jti)).first() is None:
        conn.execute(insert(revoked).values(jti=jti, tenant_id=tenant_id, expires_at=expires_at))


def is_revoked(conn: Connection, jti: str) -> bool:
    return conn.execute(select(revoked.c.jti).where(revoked.c.jti == jti)).first() is not None
