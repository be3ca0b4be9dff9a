"""Signing key rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from latchkey.store.tables import signing_keys


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(signing_keys).values(**values))


def active(conn: Connection, tenant_id: str) -> Any:
    """The newest unretired key row, or None."""
    query = (
        select(signing_keys)
        .where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.retired_at.is_(None))
        .order_by(signing_keys.c.created_at.desc())
        .limit(1)
    )
    return conn.execute(query).first()


def retire_all(conn: Connection, tenant_id: str, when: datetime) -> None:
    conn.execute(
        update(signing_keys)
        .where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.retired_at.is_(None))
        .values(retired_at=when)
    )


def published(conn: Connection, tenant_id: str, retired_after: datetime) -> list[Any]:
    """Unretired keys and keys retired after `retired_after`, newest first."""
    query = (
        select(signing_keys)
        .where(
            signing_keys.c.tenant_id == tenant_id,
            or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_after),
        )
        .order_by(signing_keys.c.created_at.desc())
    )
    return list(conn.execute(query))


def for_tenant(conn: Connection, tenant_id: str) -> list[Any]:
    """Every key of the tenant, newest first (public halves only are read)."""
    query = (
        select(
            signing_keys.c.kid,
            signing_keys.c.alg,
            signing_keys.c.created_at,
            signing_keys.c.retired_at,
        )
        .where(signing_keys.c.tenant_id == tenant_id)
        .order_by(signing_keys.c.created_at.desc())
    )
    return list(conn.execute(query))
