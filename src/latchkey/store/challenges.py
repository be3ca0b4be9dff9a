"""Challenge rows: issued once, consumed once by a single atomic statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from latchkey.models import Challenge
from latchkey.store.tables import challenges

_COLUMNS = tuple(c.name for c in challenges.c)


def _record(row: Any) -> Challenge:
    return Challenge(**dict(zip(_COLUMNS, row, strict=True)))


# The hot statements are built once: SQLAlchemy then reuses their compiled form and cache key
# instead of rebuilding both on every request.
_INSERT = insert(challenges)
_CONSUME = (
    update(challenges)
    .where(
        challenges.c.id == bindparam("b_id"),
        challenges.c.tenant_id == bindparam("b_tenant"),
        challenges.c.consumed_at.is_(None),
        challenges.c.expires_at > bindparam("b_now"),
    )
    .values(consumed_at=bindparam("b_now"))
    .returning(*challenges.c)
)
_CONSUME_KIND = _CONSUME.where(challenges.c.kind == bindparam("b_kind"))
_PEEK = select(challenges).where(
    challenges.c.id == bindparam("b_id"), challenges.c.tenant_id == bindparam("b_tenant")
)


def add(conn: Connection, challenge: Challenge) -> None:
    conn.execute(_INSERT, challenge.__dict__)


def consume(
    conn: Connection, *, challenge_id: str, tenant_id: str, now: datetime, kind: str | None = None
) -> Challenge | None:
    """Mark an unexpired, unused challenge of this tenant (and of this kind, when given) used
    and return it; None otherwise, leaving the row untouched.

    One UPDATE ... RETURNING: of any number of concurrent callers, exactly one gets the row.
    """
    params = {"b_id": challenge_id, "b_tenant": tenant_id, "b_now": now}
    if kind is not None:
        params["b_kind"] = kind
    row = conn.execute(_CONSUME if kind is None else _CONSUME_KIND, params).first()
    return _record(row) if row else None


def peek(conn: Connection, *, challenge_id: str, tenant_id: str) -> Challenge | None:
    """Read without consuming: to say why a consume failed, or to show pending options."""
    row = conn.execute(_PEEK, {"b_id": challenge_id, "b_tenant": tenant_id}).first()
    return _record(row) if row else None
