"""Rate-limit counters: one upsert per hit that starts the key's count again in a new window
and returns the count, so concurrent hits from many processes add up exactly."""

from __future__ import annotations

from sqlalchemy import Connection, case
from sqlalchemy.dialects import postgresql, sqlite

from latchkey.store.tables import rate_limits


def incr(conn: Connection, key: str, window: int) -> int:
    if conn.dialect.name == "postgresql":
        # A counter need not survive a crash: skip waiting for the WAL flush (this transaction
        # only; everything else stays durable).
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        rate_limits
    )
    values = insert.values(key=key, window=window, count=1)
    statement = values.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": case(
                (rate_limits.c.window == values.excluded.window, rate_limits.c.count + 1),
                else_=1,
            ),
            "window": values.excluded.window,
        },
    ).returning(rate_limits.c.count)
    return int(conn.execute(statement).scalar_one())


def add(conn: Connection, counts: list[tuple[str, int, int]]) -> dict[str, int]:
    """Add each (key, window end, hits) in one statement (keys distinct); each key's total in
    its window afterwards, every process's hits included. A key still in an older window
    starts again at the hits added."""
    if not counts:
        return {}
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        rate_limits
    )
    values = insert.values([{"key": k, "window": w, "count": n} for k, w, n in counts])
    statement = values.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": case(
                (
                    rate_limits.c.window == values.excluded.window,
                    rate_limits.c.count + values.excluded.count,
                ),
                else_=values.excluded.count,
            ),
            "window": values.excluded.window,
        },
    ).returning(rate_limits.c.key, rate_limits.c.count)
    return {key: int(count) for key, count in conn.execute(statement)}
