"""The event log: every ceremony, success or failure, with its reason."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select

from latchkey.models import Event
from latchkey.store import driver
from latchkey.store.tables import events

_INSERT = insert(events)


def add(conn: Connection, event: Event) -> None:
    # The dataclass's own fields (a shallow copy: asdict would deep-copy `detail` for nothing),
    # and the detail's fields the adoption figures read as columns (same statement).
    row = dict(event.__dict__)
    row.update(columns_of(event.detail))
    driver.execute(conn, _INSERT, row)


def columns_of(detail: dict[str, Any]) -> dict[str, Any]:
    """The `pool_id`, `method` and `elapsed_ms` columns of an event with this detail: its own
    fields when they are strings and an integer, else NULL (what reading the JSON gives)."""
    pool_id, method, elapsed = detail.get("pool_id"), detail.get("method"), detail.get("elapsed_ms")
    return {
        "pool_id": pool_id if isinstance(pool_id, str) else None,
        "method": method if isinstance(method, str) else None,
        "elapsed_ms": elapsed if type(elapsed) is int else None,
    }


def for_tenant(conn: Connection, tenant_id: str, *, limit: int = 100) -> list[Event]:
    query = (
        select(*_SELECTED)
        .where(events.c.tenant_id == tenant_id)
        .order_by(events.c.created_at.desc(), events.c.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in conn.execute(query)]


# An Event's own columns (not the copies of its detail's fields).
_COLUMNS = tuple(f.name for f in fields(Event))
_SELECTED = tuple(events.c[name] for name in _COLUMNS)


def one(conn: Connection, tenant_id: str, event_id: str) -> Event | None:
    """One event of the tenant's log (another tenant's id is not found)."""
    query = select(*_SELECTED).where(events.c.id == event_id, events.c.tenant_id == tenant_id)
    row = conn.execute(query).first()
    return _record(row) if row is not None else None


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
        select(*_SELECTED)
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
