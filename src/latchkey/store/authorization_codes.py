"""OIDC authorization code rows, found by the SHA-256 of the code. A code is consumed by one
conditional UPDATE: of concurrent exchanges exactly one wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.store.tables import authorization_codes as codes


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(codes).values(**values))


def get(conn: Connection, *, tenant_id: str, code_hash: bytes) -> Any:
    query = select(codes).where(codes.c.code_hash == code_hash, codes.c.tenant_id == tenant_id)
    return conn.execute(query).first()


def consume(conn: Connection, *, code_hash: bytes, now: datetime, family_id: str) -> bool:
    """Mark an unused, unexpired code used and name the token family it starts."""
    result = conn.execute(
        update(codes)
        .where(
            codes.c.code_hash == code_hash,
            codes.c.used_at.is_(None),
            codes.c.expires_at > now,
        )
        .values(used_at=now, family_id=family_id)
    )
    return result.rowcount == 1


def family_of(conn: Connection, code_hash: bytes) -> str | None:
    found = conn.execute(select(codes.c.family_id).where(codes.c.code_hash == code_hash)).first()
    return found.family_id if found else None
