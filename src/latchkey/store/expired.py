"""Deleting rows that have outlived their use, a bounded batch at a time: a DELETE of the
oldest matching keys, so one pass never holds a long transaction over a busy table."""

from __future__ import annotations

from sqlalchemy import Column, ColumnElement, Connection, Table, delete, select


def delete_batch(
    conn: Connection, table: Table, key: Column[object], condition: ColumnElement[bool], batch: int
) -> int:
    """Delete at most `batch` rows of `table` matching `condition`; how many went."""
    doomed = select(key).where(condition).limit(batch).scalar_subquery()
    return int(conn.execute(delete(table).where(key.in_(doomed))).rowcount)
