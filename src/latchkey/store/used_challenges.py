"""Used sealed challenge ids: one row per use, keyed by expiry then nonce (a duplicate key is
a replay; expired keys go by a range delete on the key itself)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from latchkey.store import driver
from latchkey.store.tables import used_challenges

# Built once; a conflict inserts nothing instead of failing the transaction (PostgreSQL would
# otherwise abort the whole group the writer commits together).
_ADD = {
    "sqlite": sqlite.insert(used_challenges)
    .on_conflict_do_nothing()
    .returning(used_challenges.c.id),
    "postgresql": postgresql.insert(used_challenges)
    .on_conflict_do_nothing()
    .returning(used_challenges.c.id),
}
_EXISTS = select(used_challenges.c.id).where(used_challenges.c.id == bindparam("b_id"))


def add(conn: Connection, key: str) -> bool:
    """True when this key was not used before (and now is)."""
    # RETURNING, not rowcount: psycopg reports no row count for INSERT ... ON CONFLICT.
    return driver.first(conn, _ADD[conn.dialect.name], {"id": key}) is not None


def exists(conn: Connection, key: str) -> bool:
    return conn.execute(_EXISTS, {"b_id": key}).first() is not None
