"""The event log: every ceremony, success or failure, with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from latchkey.models import Event
from latchkey.store.tables import events

_INSERT = insert(events)


def add(conn: Connection, event: Event) -> None:
    # The dataclass's own fields (a shallow copy: asdict would deep-copy `detail` for nothing).
    conn.execute(_INSERT, dict(event.__dict__))


def for_tenant(conn: Connection, tenant_id: str, *, limit: int = 100) -> list[Event]:
    query = (
        select(events)
        .where(events.c.tenant_id == tenant_id)
        .order_by(events.c.created_at.desc(), events.c.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in conn.execute(query)]


_COLUMNS = tuple(c.name for c in events.c)


def _record(row: Any) -> Event:
    return Event(**dict(zip(_COLUMNS, row, strict=True)))
