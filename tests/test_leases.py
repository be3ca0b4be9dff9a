"""store/leases.py: which outbox rows are due, the retry backoff, and that one lease is one
worker's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
)

from latchkey.store import leases

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_meta = MetaData()
outbox = Table(
    "outbox",
    _meta,
    Column("id", String, primary_key=True),
    Column("done_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = create_engine("sqlite://")
    _meta.create_all(made)
    rows = {
        "due": {},
        "done": {"done_at": NOW},
        "out-of-attempts": {"attempts": 3},
        "not-yet": {"next_attempt_at": NOW + timedelta(seconds=1)},
        "leased": {"locked_until": NOW + timedelta(seconds=1)},
        "lease-ran-out": {"locked_until": NOW - timedelta(seconds=1)},
    }
    with made.begin() as conn:
        for n, (row_id, values) in enumerate(rows.items()):
            base = {"attempts": 2, "next_attempt_at": NOW, "locked_until": None, "done_at": None}
            created = NOW - timedelta(minutes=len(rows) - n)
            conn.execute(insert(outbox).values(id=row_id, created_at=created, **base | values))
    yield made
    made.dispose()


def due_ids(engine: Engine) -> list[str]:
    condition = leases.due(outbox, done=outbox.c.done_at, max_attempts=3, now=NOW)
    with engine.connect() as conn:
        return sorted(conn.execute(select(outbox.c.id).where(*condition)).scalars())


def test_due_is_undone_with_attempts_left_its_time_come_and_no_lease_held(
    engine: Engine,
) -> None:
    assert due_ids(engine) == ["due", "lease-ran-out"]


def test_a_lease_is_taken_once_and_counts_an_attempt(engine: Engine) -> None:
    def take() -> list[str]:
        condition = leases.due(outbox, done=outbox.c.done_at, max_attempts=3, now=NOW)
        with engine.begin() as conn:
            rows = leases.lease_due(
                conn,
                outbox,
                due=condition,
                pick=condition[0] & condition[1] & condition[2] & condition[3],
                now=NOW,
                lease_seconds=30,
                limit=5,
                returning=[outbox.c.id, outbox.c.attempts, outbox.c.locked_until],
            )
        return [f"{r.id}:{r.attempts}:{r.locked_until.replace(tzinfo=UTC) - NOW}" for r in rows]

    # Oldest first; each now leased for 30 s with its attempt counted.
    assert take() == ["due:3:0:00:30", "lease-ran-out:3:0:00:30"]
    assert take() == []  # held: no second worker gets them
    assert due_ids(engine) == []


def test_retry_delay_doubles_from_the_first_up_to_the_longest() -> None:
    first, longest = timedelta(seconds=5), timedelta(minutes=1)

    def delay(attempts: int) -> timedelta:
        return leases.retry_delay(attempts, first=first, longest=longest)

    assert [delay(n).total_seconds() for n in range(0, 6)] == [5, 5, 10, 20, 40, 60]
    assert delay(10_000) == longest  # no overflow on a huge count
