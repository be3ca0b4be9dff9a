"""Shared rate-limit counts synced in batches (runtime/synced_counter.py): each node counts at
once against the total it last learnt plus its own pending hits; a sync adds every pending hit
in one statement and learns the totals, other nodes' hits included."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from latchkey.config import Settings
from latchkey.errors import ConfigError
from latchkey.runtime import Runtime, build
from latchkey.runtime.ratelimit import DatabaseCounter, Limiter, RateLimited, Rule
from latchkey.runtime.synced_counter import SyncedCounter
from latchkey.store.engine import make_engine
from latchkey.store.tables import rate_limits


def _by_hand(rt: Runtime, now: list[float]) -> SyncedCounter:
    """A node whose syncs the test makes (no thread)."""
    return SyncedCounter(rt.engine, clock=lambda: now[0], start=lambda _run: None)


def _stored(rt: Runtime, key: str) -> int | None:
    with rt.read() as conn:
        return conn.execute(select(rate_limits.c.count).where(rate_limits.c.key == key)).scalar()


def test_nodes_learn_each_others_hits_at_each_sync(rt: Runtime) -> None:
    now = [1_000.0]
    a, b = _by_hand(rt, now), _by_hand(rt, now)
    for _ in range(30):
        a.incr("k", 60)
    assert [b.incr("k", 60) for _ in range(30)][-1] == 30  # b has not learnt a's hits yet
    assert a.sync()
    assert b.sync()
    assert _stored(rt, "k") == 60  # two statements for sixty hits
    assert b.incr("k", 60) == 61  # b's sync returned a's hits too
    assert a.incr("k", 60) == 31  # a has not synced since b added its hits
    assert a.sync()  # adds a's one, learns 61 (b's sixty-first hit is still pending on b)
    assert a.incr("k", 60) == 62


def test_the_limit_holds_across_nodes_one_sync_late(rt: Runtime) -> None:
    now = [1_000.0]
    a, b = Limiter(_by_hand(rt, now)), Limiter(_by_hand(rt, now))
    rule = Rule(40, 60)
    for _ in range(20):
        a.hit("login:ip:1", rule)
    assert a.counter.sync()  # type: ignore[attr-defined]
    for _ in range(20):
        b.hit("login:ip:1", rule)
    assert b.counter.sync()  # type: ignore[attr-defined]  # b learns a's twenty: 40 in all
    with pytest.raises(RateLimited) as caught:
        b.hit("login:ip:1", rule)
    assert caught.value.retry_after == 20  # the window ends at 1,020 s
    a.hit("login:ip:1", rule)  # a still knows only its own twenty: one sync late
    assert a.counter.sync()  # type: ignore[attr-defined]
    with pytest.raises(RateLimited):
        a.hit("login:ip:1", rule)


def test_a_flood_costs_one_row_update_per_key_and_sync(rt: Runtime) -> None:
    now = [1_000.0]
    node = _by_hand(rt, now)
    limiter = Limiter(node)
    refusals = 0
    for _ in range(500):
        try:
            limiter.hit("flood:ip:9", Rule(10, 60))
        except RateLimited:
            refusals += 1
    assert refusals == 490
    assert _stored(rt, "flood:ip:9") is None  # nothing written per request
    assert node.sync()
    assert _stored(rt, "flood:ip:9") == 500


def test_a_new_window_starts_again_and_finished_ones_are_forgotten(rt: Runtime) -> None:
    now = [1_000.0]
    node = _by_hand(rt, now)
    for _ in range(5):
        node.incr("w", 60)
    assert node.sync()
    now[0] = 1_021.0  # the window [960, 1020) has ended
    assert node.incr("w", 60) == 1
    assert node.sync()
    assert _stored(rt, "w") == 1
    now[0] = 2_000.0
    node.incr("other", 60)
    assert node.sync()
    assert set(node._counts) == {"other"}


def test_counting_goes_on_while_the_database_is_away(tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")  # its directory is absent
    now = [1_000.0]
    node = SyncedCounter(gone, clock=lambda: now[0], start=lambda _run: None)
    limiter = Limiter(node)
    for _ in range(3):
        limiter.hit("k", Rule(3, 60))
    assert node.sync() is False
    with pytest.raises(RateLimited):
        limiter.hit("k", Rule(3, 60))
    assert node._counts["k"].pending == 4  # kept for when the database answers


def test_the_sync_thread_adds_pending_hits_and_stops_when_idle(rt: Runtime) -> None:
    node = SyncedCounter(rt.engine, sync_seconds=0.01)
    node.incr("thread", 60)
    node.incr("thread", 60)
    deadline = time.monotonic() + 5
    while _stored(rt, "thread") != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _stored(rt, "thread") == 2
    while node._running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not node._running


def test_the_database_store_syncs_in_batches_unless_told_to_count_each_hit(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    settings = Settings(database_url=url, master_key=bytes(32), rate_limit_store="database")
    assert isinstance(build(settings).limiter.counter, SyncedCounter)
    exact = Settings(
        database_url=url,
        master_key=bytes(32),
        rate_limit_store="database",
        rate_limit_sync_seconds=0,
    )
    assert isinstance(build(exact).limiter.counter, DatabaseCounter)
    with pytest.raises(ConfigError, match="LATCHKEY_RATE_LIMIT_SYNC_SECONDS"):
        Settings(database_url=url, master_key=bytes(32), rate_limit_sync_seconds=-1).checked()
