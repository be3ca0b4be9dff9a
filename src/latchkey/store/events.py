"""The event log: every ceremony, success or failure, with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select

from latchkey.models import Event
from latchkey.store import driver
from latchkey.store.tables import events

_INSERT = insert(events)


def add(conn: Connection, event: Event) -> None:
    # The dataclass's own fields (a shallow copy: asdict would deep-copy `detail` for nothing).
    driver.execute(conn, _INSERT, dict(event.__dict__))


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


def query(
    conn: Connection,
    tenant_id: str,
    conditions: list[Any],
    *,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Event]:
    """The tenant's events matching every condition, newest first, strictly after the keyset
    position `before` (created_at, id): rows inserted meanwhile never shift a later page."""
    where = [events.c.tenant_id == tenant_id, *conditions]
    if before is not None:
        at, event_id = before
        where.append(
            or_(events.c.created_at < at, and_(events.c.created_at == at, events.c.id < event_id))
        )
    statement = (
        select(events)
        .where(*where)
        .order_by(events.c.created_at.desc(), events.c.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in conn.execute(statement)]


def prune(conn: Connection, tenant_id: str, older_than: datetime, *, batch: int) -> int:
    """Delete up to `batch` of the tenant's events created before `older_than` (a bounded
    statement, so pruning a large log never holds the database for long)."""
    doomed = (
        select(events.c.id)
        .where(events.c.tenant_id == tenant_id, events.c.created_at < older_than)
        .limit(batch)
    )
    return conn.execute(delete(events).where(events.c.id.in_(doomed))).rowcount
