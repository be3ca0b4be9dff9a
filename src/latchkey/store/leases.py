"""Claiming rows of an outbox (mail, webhooks) as leases: `locked_until` and `attempts` columns.

On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent workers pass over each other's rows
without waiting; on SQLite the transaction already holds the database's write lock. Either way
each row is taken by a conditional UPDATE that re-checks it is still claimable (with the lock
value read), and only rows that UPDATE matched are returned: two workers never hold one lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select, update


def lease_due(
    conn: Connection,
    table: Table,
    *,
    due: Sequence[ColumnElement[bool]],
    pick: ColumnElement[bool],
    now: datetime,
    lease_seconds: float,
    limit: int,
    returning: Sequence[Any],
) -> list[Any]:
    """Lease up to `limit` rows that `pick` selects, oldest due first; each is re-checked
    against `due` as it is taken. Returns the `returning` columns of the rows leased."""
    c = table.c
    candidates = (
        select(c.id, c.locked_until)
        .where(pick)
        .order_by(c.next_attempt_at, c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    leased_until = now + timedelta(seconds=lease_seconds)
    taken: list[Any] = []
    for candidate in conn.execute(candidates).all():
        old = candidate.locked_until
        same_lock = c.locked_until.is_(None) if old is None else c.locked_until == old
        row = conn.execute(
            update(table)
            .where(c.id == candidate.id, same_lock, *due)
            .values(locked_until=leased_until, attempts=c.attempts + 1)
            .returning(*returning)
        ).first()
        if row is not None:
            taken.append(row)
    return taken
