"""Recovery code rows: looked up by flow or by the link's hash; each guess and the one use are
conditional UPDATEs, so concurrent guesses cannot exceed the limit and a code works once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from latchkey.store.tables import recovery_codes


def add(conn: Connection, **values: Any) -> None:
    conn.execute(insert(recovery_codes).values(**values))


def for_flow(conn: Connection, flow_id: str) -> Any | None:
    query = select(recovery_codes).where(recovery_codes.c.flow_id == flow_id)
    return conn.execute(query).first()


def issued_since(conn: Connection, user_id: str, since: datetime) -> int:
    """How many codes the user was sent since `since`."""
    query = select(func.count()).where(
        recovery_codes.c.user_id == user_id, recovery_codes.c.created_at > since
    )
    return int(conn.execute(query).scalar_one())


def by_link(conn: Connection, link_hash: bytes) -> Any | None:
    query = select(recovery_codes).where(recovery_codes.c.link_hash == link_hash)
    return conn.execute(query).first()


def _live(code_id: str, now: datetime) -> Any:
    return (
        update(recovery_codes)
        .where(
            recovery_codes.c.id == code_id,
            recovery_codes.c.used_at.is_(None),
            recovery_codes.c.expires_at > now,
        )
        .returning(recovery_codes.c.attempts)
    )


def count_attempt(conn: Connection, *, code_id: str, now: datetime, limit: int) -> bool:
    """Count one guess; False when the code is used, expired or out of guesses."""
    query = _live(code_id, now).where(recovery_codes.c.attempts < limit)
    row = conn.execute(query.values(attempts=recovery_codes.c.attempts + 1)).first()
    return row is not None


def use(conn: Connection, *, code_id: str, now: datetime) -> bool:
    return conn.execute(_live(code_id, now).values(used_at=now)).first() is not None
