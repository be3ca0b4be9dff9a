"""API key rows: only a prefix and the SHA-256 of each secret are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.store.tables import api_keys


def add(
    conn: Connection,
    *,
    key_id: str,
    tenant_id: str,
    kind: str,
    prefix: str,
    secret_hash: bytes,
    created_at: datetime,
) -> None:
    conn.execute(
        insert(api_keys).values(
            id=key_id,
            tenant_id=tenant_id,
            kind=kind,
            prefix=prefix,
            secret_hash=secret_hash,
            created_at=created_at,
        )
    )


def tenant_for_hash(conn: Connection, secret_hash: bytes, kind: str) -> str | None:
    """The tenant owning an unrevoked key of this kind with this hash."""
    return conn.execute(
        select(api_keys.c.tenant_id).where(
            api_keys.c.secret_hash == secret_hash,
            api_keys.c.kind == kind,
            api_keys.c.revoked_at.is_(None),
        )
    ).scalar()


def for_tenant(conn: Connection, tenant_id: str) -> list[Any]:
    query = (
        select(api_keys)
        .where(api_keys.c.tenant_id == tenant_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return list(conn.execute(query))


def get(conn: Connection, tenant_id: str, key_id: str) -> Any:
    query = select(api_keys).where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
    return conn.execute(query).first()


def by_hash(conn: Connection, secret_hash: bytes) -> Any:
    return conn.execute(select(api_keys).where(api_keys.c.secret_hash == secret_hash)).first()


def revoke(conn: Connection, tenant_id: str, key_id: str, when: datetime) -> bool:
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.tenant_id == tenant_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=when)
    )
    return result.rowcount == 1
