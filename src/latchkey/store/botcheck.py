"""Spent bot-check solutions: one row per solution, so each is accepted once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from latchkey.store.tables import botcheck_spent

_INSERT = insert(botcheck_spent)


def spend(conn: Connection, digest: bytes, expires_at: datetime) -> bool:
    """Record a solution as spent; False when it already was.

    The primary key decides: of concurrent spenders exactly one inserts, the others wait for it
    and then fail on the key. The SAVEPOINT keeps that failure from aborting the caller's
    transaction (PostgreSQL would refuse every later statement in it).
    """
    try:
        with conn.begin_nested():
            conn.execute(_INSERT, {"digest": digest, "expires_at": expires_at})
    except IntegrityError:
        return False
    return True
