"""The group writer on the server's event loop (SQLite): the group's statements run on the loop
thread, only the waits (the write lock, COMMIT's fsync) in a thread; answers come after the
commit; a raising job fails alone; a writer holding the lock (another thread of this process,
or another process) delays the group without stopping the loop; work queued from other threads
and work queued at detach is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection, select

from latchkey.api.app import SWITCH_INTERVAL_SECONDS, create_app
from latchkey.config import Settings
from latchkey.runtime import Runtime
from latchkey.runtime.group_commit import alone
from latchkey.store import used_challenges as used_store
from latchkey.store.engine import make_engine
from latchkey.store.tables import used_challenges
from tests.support.database import copy_sqlite
from tests.support.writer_jobs import insert, partly_undone


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "latchkey.db"


@pytest.fixture
def sqlite_rt(database: Path, sqlite_template: Path) -> Iterator[Runtime]:
    copy_sqlite(sqlite_template, database)
    engine = make_engine(f"sqlite:///{database}")
    yield Runtime(engine=engine)
    engine.dispose()


def _committed(database: Path) -> list[str]:
    """What another connection (another process) sees committed."""
    with sqlite3.connect(database) as other:
        return [row[0] for row in other.execute("SELECT id FROM used_challenges ORDER BY id")]


def _insert(key: str, seen: dict[str, Any] | None = None, *, fail: bool = False) -> Any:
    """As writer_jobs.insert, noting the thread the job ran on."""
    job = insert(key, fail=fail)

    def run(conn: Connection) -> str:
        if seen is not None:
            seen[key] = threading.get_ident()
        return cast(str, job(conn))

    return run


async def _attached(rt: Runtime) -> None:
    rt.attach_writer(asyncio.get_running_loop())


def test_a_group_runs_on_the_loop_and_is_answered_after_its_commit(
    sqlite_rt: Runtime, database: Path
) -> None:
    seen: dict[str, Any] = {}
    visible_at_answer: dict[str, list[str]] = {}

    async def scenario() -> tuple[int, list[str]]:
        await _attached(sqlite_rt)
        futures = [sqlite_rt.submit(_insert(f"k{i}", seen)) for i in range(10)]
        for future in futures:
            key = f"k{futures.index(future)}"
            future.add_done_callback(
                lambda _f, key=key: visible_at_answer.setdefault(key, _committed(database))
            )
        results = [await asyncio.wrap_future(f) for f in futures]
        loop_thread = threading.get_ident()
        await sqlite_rt.writer.detach()
        return loop_thread, results

    groups_before = sqlite_rt.writer.stats.groups
    loop_thread, results = asyncio.run(scenario())
    assert results == [f"k{i}" for i in range(10)]
    assert set(seen.values()) == {loop_thread}  # statements ran on the loop's thread
    assert sqlite_rt.writer.stats.groups - groups_before == 1  # one transaction, one commit
    for key, visible in visible_at_answer.items():
        assert key in visible  # durable (visible to another connection) before the answer


def test_a_raising_job_fails_alone_on_the_loop(sqlite_rt: Runtime, database: Path) -> None:
    async def scenario() -> list[Any]:
        await _attached(sqlite_rt)
        futures = [
            sqlite_rt.submit(_insert("a")),
            sqlite_rt.submit(_insert("b", fail=True)),
            sqlite_rt.submit(_insert("c")),
        ]
        outcomes = await asyncio.gather(
            *(asyncio.wrap_future(f) for f in futures), return_exceptions=True
        )
        await sqlite_rt.writer.detach()
        return outcomes

    first, second, third = asyncio.run(scenario())
    assert (first, third) == ("a", "c")
    assert isinstance(second, ValueError)
    assert _committed(database) == ["a", "c"]


def test_an_undoable_block_failing_on_the_loop_undoes_only_its_own_writes(
    sqlite_rt: Runtime, database: Path
) -> None:
    async def scenario() -> list[Any]:
        await _attached(sqlite_rt)
        futures = [
            sqlite_rt.submit(partly_undone("x")),
            sqlite_rt.submit(partly_undone("y", fail=True)),
        ]
        outcomes = [await asyncio.wrap_future(f) for f in futures]
        await sqlite_rt.writer.detach()
        return outcomes

    assert asyncio.run(scenario()) == [("x", True), ("failed", True)]  # each ran again alone
    assert _committed(database) == ["x", "x-use", "y"]
    assert alone()  # nothing of the group's state is left on the loop's thread


def test_a_thread_holding_the_write_lock_delays_the_group_but_not_the_loop(
    sqlite_rt: Runtime, database: Path
) -> None:
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with sqlite_rt.transaction() as conn:
            used_store.add(conn, "first")
            holding.set()
            release.wait(5)

    async def scenario() -> tuple[str, int]:
        await _attached(sqlite_rt)
        thread = threading.Thread(target=other_writer)
        thread.start()
        await asyncio.to_thread(holding.wait, 5)
        future = asyncio.wrap_future(sqlite_rt.submit(_insert("second")))
        ticks = 0
        while ticks < 20:  # the loop keeps running while the group waits for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        assert not future.done()
        release.set()
        result = await future
        thread.join()
        await sqlite_rt.writer.detach()
        return result, ticks

    assert asyncio.run(scenario()) == ("second", 20)
    assert _committed(database) == ["first", "second"]


def test_another_process_writing_delays_the_group_but_not_the_loop(
    sqlite_rt: Runtime, database: Path
) -> None:
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    other.execute("INSERT INTO used_challenges (id) VALUES ('theirs')")

    async def scenario() -> str:
        await _attached(sqlite_rt)
        future = asyncio.wrap_future(sqlite_rt.submit(_insert("ours")))
        started = time.monotonic()
        await asyncio.sleep(0.2)  # returns on time: the loop is not stuck in SQLite's busy wait
        assert time.monotonic() - started < 1.0
        assert not future.done()
        other.execute("COMMIT")
        result = await future
        await sqlite_rt.writer.detach()
        return result

    try:
        assert asyncio.run(scenario()) == "ours"
    finally:
        other.close()
    assert _committed(database) == ["ours", "theirs"]


def test_work_from_other_threads_and_work_queued_at_detach_is_committed(
    sqlite_rt: Runtime, database: Path
) -> None:
    async def scenario() -> list[str]:
        await _attached(sqlite_rt)
        from_threads = await asyncio.gather(
            *(asyncio.to_thread(sqlite_rt.writer.run, _insert(f"t{i}")) for i in range(5))
        )
        pending = [sqlite_rt.submit(_insert(f"d{i}")) for i in range(3)]
        await sqlite_rt.writer.detach()
        assert all(f.done() for f in pending)
        return list(from_threads)

    assert asyncio.run(scenario()) == [f"t{i}" for i in range(5)]
    # Detached: a writer thread serves what comes next.
    assert sqlite_rt.writer.run(_insert("after")) == "after"
    assert _committed(database) == ["after", "d0", "d1", "d2", "t0", "t1", "t2", "t3", "t4"]
    with sqlite_rt.read() as conn:
        assert len(list(conn.execute(select(used_challenges.c.id)))) == 9


def test_a_loop_closed_without_detaching_hands_over_to_a_thread(
    sqlite_rt: Runtime, database: Path
) -> None:
    asyncio.run(_attached(sqlite_rt))  # the loop ends without detach
    assert sqlite_rt.writer.run(_insert("later")) == "later"
    assert _committed(database) == ["later"]


def test_the_server_attaches_the_writer_and_shortens_the_switch_interval_while_it_runs(
    sqlite_rt: Runtime,
) -> None:
    before = sys.getswitchinterval()
    assert before != SWITCH_INTERVAL_SECONDS
    with TestClient(create_app(sqlite_rt, Settings())) as client:
        assert client.get("/health").status_code == 200
        assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS
        assert sqlite_rt.writer._loop is not None  # the groups run on the server's loop
    assert sys.getswitchinterval() == before
    assert sqlite_rt.writer._loop is None
