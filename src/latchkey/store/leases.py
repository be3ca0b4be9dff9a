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

from sqlalchemy import Column, ColumnElement, Connection, Table, or_, select, update


def due(
    table: Table, *, done: Column[Any], max_attempts: int, now: datetime
) -> list[ColumnElement[bool]]:
    """A row may be leased now: not `done` (sent, delivered), attempts left, its next attempt
    due, and no lease held on it (or the one held has run out)."""
    c = table.c
    return [
        done.is_(None),
        c.attempts < max_attempts,
        c.next_attempt_at <= now,
        or_(c.locked_until.is_(None), c.locked_until < now),
    ]


def retry_delay(attempts: int, *, first: timedelta, longest: timedelta) -> timedelta:
    """Exponential backoff after the n-th failed attempt: first, twice that, ... at most
    `longest`."""
    exponent = max(attempts - 1, 0)
    if exponent > 20:  # first * 2**20 is already far beyond any cap used here
        return longest
    return min(first * 2**exponent, longest)


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
