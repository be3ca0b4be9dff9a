"""store/driver.py: the hot statements run on the driver's cursor behave as through
SQLAlchemy, on SQLite and PostgreSQL: same values in and out (UTC datetimes, JSON, booleans,
bytes), inside the caller's transaction (committed or rolled back with it), savepoints, and
driver errors raised as SQLAlchemy's."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, DateTime, delete, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import IntegrityError

from latchkey.ids import new_id
from latchkey.models import Event, Tenant
from latchkey.runtime import Runtime
from latchkey.store import driver
from latchkey.store import events as event_store
from latchkey.store.tables import events, used_challenges
from latchkey.store.types import UTCDateTime, sqlite_datetime_of, sqlite_text_of


def _event(rt: Runtime, tenant: Tenant) -> Event:
    return Event(
        id=new_id(),
        tenant_id=tenant.id,
        kind="passkey.authentication",
        outcome="success",
        reason=None,
        user_id=None,
        credential_id=None,
        ip="203.0.113.9",
        user_agent="ua",
        created_at=rt.now(),
        detail={"user_verified": True, "nested": {"list": [1, "two"]}},
    )


def _stored(rt: Runtime, event_id: str) -> Event | None:
    with rt.read() as conn:
        # An Event's own columns (the table also keeps copies of some detail fields).
        own = [events.c[f.name] for f in fields(Event)]
        row = conn.execute(select(*own).where(events.c.id == event_id)).first()
    return Event(**row._mapping) if row else None


def test_values_go_in_and_come_out_as_through_sqlalchemy(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    event = _event(rt, tenant_and_secret[0])
    with rt.transaction() as conn:
        event_store.add(conn, event)  # on the driver's cursor
    assert _stored(rt, event.id) == event
    query = select(events.c.created_at, events.c.detail, events.c.ip).where(events.c.id == event.id)
    with rt.read() as conn:
        row = driver.first(conn, query, {})
    assert row == (event.created_at, event.detail, "203.0.113.9")
    assert row.detail == event.detail  # by name too, as SQLAlchemy's rows


def test_the_callers_transaction_decides(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    kept, undone = _event(rt, tenant_and_secret[0]), _event(rt, tenant_and_secret[0])
    with rt.engine.connect() as conn:  # no explicit begin: the driver statement begins one
        event_store.add(conn, undone)
        conn.rollback()
        event_store.add(conn, kept)
        conn.commit()
    assert _stored(rt, undone.id) is None
    assert _stored(rt, kept.id) == kept


_INSERT = used_challenges.insert()


def _fails_inside_a_savepoint(conn: Connection) -> None:
    with driver.savepoint(conn):
        driver.execute(conn, _INSERT, {"id": "inner"})
        raise ValueError("inner")


def test_a_savepoint_undoes_only_its_own_writes(rt: Runtime) -> None:
    with rt.transaction() as conn:
        driver.execute(conn, _INSERT, {"id": "outer"})
        with pytest.raises(ValueError, match="inner"):
            _fails_inside_a_savepoint(conn)
        with driver.savepoint(conn):
            driver.execute(conn, _INSERT, {"id": "kept"})
    with rt.read() as conn:
        assert sorted(conn.execute(select(used_challenges.c.id)).scalars()) == ["kept", "outer"]


def test_driver_errors_are_sqlalchemys(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    event = _event(rt, tenant_and_secret[0])
    with rt.transaction() as conn:
        event_store.add(conn, event)
    with pytest.raises(IntegrityError), rt.transaction() as conn:
        event_store.add(conn, replace(event, kind="another"))
    assert _stored(rt, event.id) == event


_TIMES = [
    datetime(2026, 12, 6, 5, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 6, 5, 0, 0, tzinfo=UTC),  # no microseconds: still six digits stored
    datetime(2027, 1, 1, 1, 30, 0, 7, tzinfo=timezone(timedelta(hours=2))),  # another zone
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a year of three digits
]


@pytest.mark.parametrize("value", _TIMES)
def test_utc_datetimes_are_stored_and_read_as_sqlalchemy_does_on_sqlite(value: datetime) -> None:
    """The driver's one-call conversions (store/types.py) give SQLAlchemy's own results."""
    dialect = sqlite_dialect()
    chained_bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    chained_result = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert chained_bind is not None
    assert chained_result is not None
    stored = sqlite_text_of(value)
    assert stored == chained_bind(value)
    fallback = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    read = sqlite_datetime_of(stored, fallback)
    assert read == chained_result(stored) == value
    assert read is not None
    assert read.tzinfo is UTC


def test_utc_datetime_conversions_refuse_naive_and_read_other_text_as_sqlalchemy_does() -> None:
    dialect = sqlite_dialect()
    chained_result = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    fallback = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert chained_result is not None
    with pytest.raises(ValueError, match="naive"):
        sqlite_text_of(datetime(2026, 1, 1))
    assert sqlite_text_of(None) is None
    assert sqlite_datetime_of(None, fallback) is None
    for text in ("2026-12-06 05:00:00", "2026-12-06", "2026-12-06T05:00:00.5"):
        assert sqlite_datetime_of(text, fallback) == chained_result(text)


def test_a_statement_is_read_to_its_end_so_the_kept_cursor_holds_nothing_open(
    rt: Runtime,
) -> None:
    """The driver keeps one cursor per connection: a RETURNING of several rows read for its
    first only must not be left unfinished (on SQLite that would refuse the COMMIT)."""
    with rt.transaction() as conn:
        for key in ("a", "b", "c"):
            assert driver.execute(conn, _INSERT, {"id": key}) == 1
    with rt.transaction() as conn:
        removed = driver.first(conn, delete(used_challenges).returning(used_challenges.c.id), {})
        assert removed[0] in ("a", "b", "c")
    with rt.read() as conn:
        assert conn.execute(select(used_challenges.c.id)).first() is None  # all three, committed


def test_a_replaced_connection_gets_a_cursor_of_its_own(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        driver.execute(conn, _INSERT, {"id": "before"})
        conn.rollback()
        conn.invalidate()  # the pool connects again for the next statement
        driver.execute(conn, _INSERT, {"id": "after"})
        conn.commit()
    with rt.read() as conn:
        assert list(conn.execute(select(used_challenges.c.id)).scalars()) == ["after"]


def test_a_moment_written_to_several_columns_is_converted_the_same_each_time() -> None:
    first, second = _TIMES[0], _TIMES[1]
    texts = [sqlite_text_of(v) for v in (first, first, second, first, second, second)]
    assert texts == [
        "2026-12-06 05:00:00.123456",
        "2026-12-06 05:00:00.123456",
        "2026-12-06 05:00:00.000000",
        "2026-12-06 05:00:00.123456",
        "2026-12-06 05:00:00.000000",
        "2026-12-06 05:00:00.000000",
    ]
