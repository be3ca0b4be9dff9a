"""Operator API token rows: only a prefix and the SHA-256 of each secret are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.store.tables import operator_tokens


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(operator_tokens).values(**values))


def by_hash(conn: Connection, secret_hash: bytes) -> Any:
    """The unrevoked token with this hash, or None."""
    query = select(operator_tokens).where(
        operator_tokens.c.secret_hash == secret_hash, operator_tokens.c.revoked_at.is_(None)
    )
    return conn.execute(query).first()


def get(conn: Connection, token_id: str) -> Any:
    return conn.execute(select(operator_tokens).where(operator_tokens.c.id == token_id)).first()


def listed(conn: Connection, tenant_id: str | None = None) -> list[Any]:
    """Every token, global ones included, or (given a tenant id) that tenant's only."""
    query = select(operator_tokens).order_by(operator_tokens.c.created_at, operator_tokens.c.id)
    if tenant_id is not None:
        query = query.where(operator_tokens.c.tenant_id == tenant_id)
    return list(conn.execute(query))


def revoke(conn: Connection, token_id: str, when: datetime) -> bool:
    result = conn.execute(
        update(operator_tokens)
        .where(operator_tokens.c.id == token_id, operator_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )
    return result.rowcount == 1
