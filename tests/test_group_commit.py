"""The group writer (runtime/group_commit.py): concurrent jobs share one transaction, answers
come only after the commit, a raising job fails alone, an outage fails the group with 503, and
a full queue refuses at once with 503 and Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.errors import ServiceUnavailable
from latchkey.runtime import Runtime
from latchkey.runtime.group_commit import GroupWriter, WriterBusy
from latchkey.store.engine import make_engine
from latchkey.store.tables import used_challenges
from tests.support.database import PostgresSchemas
from tests.support.writer_jobs import insert, partly_undone
from tests.web_parties import ORIGIN, Backend, Browser


class FakeDatabase:
    """A transaction that takes `commit_seconds` to commit (an fsync) and logs what it did."""

    def __init__(self, commit_seconds: float = 0.0) -> None:
        self.commit_seconds = commit_seconds
        self.log: list[str] = []
        self.fail_with: Exception | None = None

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.fail_with is not None:
            raise self.fail_with
        self.log.append("begin")
        yield self
        time.sleep(self.commit_seconds)
        self.log.append("commit")


def test_concurrent_jobs_share_commits_and_are_answered_after_them() -> None:
    db = FakeDatabase(commit_seconds=0.02)
    writer = GroupWriter(db.transaction)
    seen_at_answer: list[int] = []

    def job(index: int) -> Any:
        def run(_conn: Any) -> int:
            db.log.append(f"job {index}")
            return index

        return run

    futures = []
    for index in range(20):
        future = writer.submit(job(index))
        future.add_done_callback(lambda _f: seen_at_answer.append(db.log.count("commit")))
        futures.append(future)
        time.sleep(0.002)
    assert [f.result(timeout=5) for f in futures] == list(range(20))
    assert writer.stats.jobs == 20
    assert writer.stats.groups < 10  # each 20 ms commit gathered the jobs queued meanwhile
    assert db.log.count("begin") == db.log.count("commit") == writer.stats.groups
    # Every answer came after its group's commit: job i's commit is among those logged before.
    for index, commits in enumerate(seen_at_answer):
        assert commits >= 1
        job_at = db.log.index(f"job {index}")
        assert db.log[:job_at].count("commit") < commits


def test_the_writer_lingers_only_for_requests_on_their_way() -> None:
    db = FakeDatabase()
    writer = GroupWriter(db.transaction, linger=0.5)
    started = time.monotonic()
    assert writer.submit(lambda _c: "alone").result(timeout=5) == "alone"
    assert time.monotonic() - started < 0.4  # nobody on the way: committed at once
    ready = threading.Event()
    second: list[Any] = []

    def on_its_way() -> None:
        with writer.expect() as mine:
            ready.set()
            time.sleep(0.05)  # verifying a signature, say
            second.append(writer.submit(lambda _c: 2, mine))

    thread = threading.Thread(target=on_its_way)
    thread.start()
    ready.wait()
    assert writer.submit(lambda _c: 1).result(timeout=5) == 1
    thread.join()
    assert second[0].result(timeout=5) == 2
    assert writer.stats.groups == 2  # the alone one, then both together
    assert writer.stats.jobs == 3


def test_a_raising_job_fails_alone(rt: Runtime) -> None:
    gate = threading.Event()
    writer = rt.writer
    held = writer.submit(lambda _c: gate.wait(5))  # keeps the writer busy while the group queues
    futures = [
        writer.submit(insert("a")),
        writer.submit(insert("b", fail=True)),
        writer.submit(insert("c")),
    ]
    gate.set()
    held.result(timeout=5)
    assert futures[0].result(timeout=5) == "a"
    with pytest.raises(ValueError, match="this job breaks"):
        futures[1].result(timeout=5)
    assert futures[2].result(timeout=5) == "c"
    with rt.read() as conn:
        keys = conn.execute(select(used_challenges.c.id).order_by(used_challenges.c.id)).scalars()
        assert list(keys) == ["a", "c"]


def _hold(rt: Runtime) -> tuple[threading.Event, Any]:
    """A job that keeps the writer busy until the gate opens, already running when this
    returns: what is submitted next queues behind it and forms the next group, whole."""
    gate, running = threading.Event(), threading.Event()

    def hold(_conn: Any) -> None:
        running.set()
        gate.wait(5)

    held = rt.writer.submit(hold)
    assert running.wait(5)
    return gate, held


def test_an_undoable_block_failing_in_a_group_undoes_only_its_own_writes(rt: Runtime) -> None:
    writer = rt.writer
    gate, held = _hold(rt)
    futures = [
        writer.submit(partly_undone("a")),
        writer.submit(partly_undone("b", fail=True)),
        writer.submit(partly_undone("c")),
    ]
    gate.set()
    held.result(timeout=5)
    # The group ran without savepoints; b's failure sent every job to run alone, b with its own.
    assert [f.result(timeout=5) for f in futures] == [("a", True), ("failed", True), ("c", True)]
    with rt.read() as conn:
        keys = conn.execute(select(used_challenges.c.id).order_by(used_challenges.c.id)).scalars()
        assert list(keys) == ["a", "a-use", "b", "c", "c-use"]


def test_a_group_whose_undoable_blocks_succeed_runs_together(rt: Runtime) -> None:
    writer = rt.writer
    gate, held = _hold(rt)
    futures = [writer.submit(partly_undone(key)) for key in ("x", "y")]
    gate.set()
    held.result(timeout=5)
    assert [f.result(timeout=5) for f in futures] == [("x", False), ("y", False)]


def test_an_outage_fails_the_group_with_503() -> None:
    db = FakeDatabase()
    db.fail_with = ServiceUnavailable("the database is unavailable; try again shortly")
    writer = GroupWriter(db.transaction)
    with pytest.raises(ServiceUnavailable):
        writer.submit(lambda _c: 1).result(timeout=5)
    db.fail_with = None
    assert writer.submit(lambda _c: 2).result(timeout=5) == 2  # and recovers


def test_a_full_queue_refuses_at_once() -> None:
    db = FakeDatabase()
    writer = GroupWriter(db.transaction, max_queue=2)
    gate = threading.Event()
    running = threading.Event()

    def hold(_c: Any) -> None:
        running.set()
        gate.wait(5)

    held = writer.submit(hold)
    running.wait(5)
    queued = [writer.submit(lambda _c: 1), writer.submit(lambda _c: 2)]
    with pytest.raises(WriterBusy) as refused:
        writer.submit(lambda _c: 3)
    assert refused.value.status == 503
    assert refused.value.retry_after == 1
    gate.set()
    held.result(timeout=5)
    assert [f.result(timeout=5) for f in queued] == [1, 2]


def test_an_overloaded_sign_in_is_a_clean_503_with_retry_after(
    rt: Runtime, client: TestClient, backend: Backend, browser: Browser
) -> None:
    signup = backend.track("busy", "signup")
    assert browser.sign_up(signup["token"]).status_code == 200
    begun = browser.post("user-authenticators/passkey/authentication-options", {})
    assertion = browser.authenticator.get(begun.json()["options"], origin=ORIGIN)
    body = {"authenticationCredential": assertion, "challengeId": begun.json()["challengeId"]}
    rt.writer.max_queue = 0
    refused = browser.post("verify/passkey", body)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "error": "service_unavailable",
        "errorCode": "service_unavailable",
        "errorDescription": "the server is busy; try again shortly",
    }
    with rt.read() as conn:
        assert conn.execute(select(func.count()).select_from(used_challenges)).scalar_one() == 0
    rt.writer.max_queue = 1024
    assert browser.post("verify/passkey", body).status_code == 200  # nothing was used up


@pytest.fixture
def server_rt(postgres_schemas: PostgresSchemas) -> Iterator[Runtime]:
    """A runtime on PostgreSQL alone: the kept server connection is PostgreSQL's (SQLite's
    writer keeps its own by other rules, test_loop_writer)."""
    with postgres_schemas.schema() as url:
        engine = make_engine(url)
        yield Runtime(engine=engine)
        engine.dispose()


def _backend_pid(conn: Any) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_the_writer_keeps_its_server_connection_between_groups(
    server_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the writer's groups run on one connection (no pool checkout and ping per
    group), until it has been idle a while; then a connection the server dropped meanwhile is
    replaced before a group runs on it."""
    rt = server_rt
    seen: list[int] = []

    def pid(conn: Any) -> int:
        seen.append(_backend_pid(conn))
        return seen[-1]

    monkeypatch.setattr("latchkey.runtime.KEPT_SERVER_CONNECTION_IDLE_SECONDS", 60.0)
    for _ in range(3):
        rt.writer.run(pid)
    assert len(set(seen)) == 1, seen
    # The server drops it (a restart, an idle timeout): after an idle pause the next group
    # checks a connection out again, pinged, and succeeds.
    with rt.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({seen[0]})")
    monkeypatch.setattr("latchkey.runtime.KEPT_SERVER_CONNECTION_IDLE_SECONDS", 0.0)
    assert rt.writer.run(insert("after-drop")) == "after-drop"
    assert rt.writer.run(pid) != seen[0]


def test_a_connection_dropped_while_in_use_fails_one_group_with_503_then_recovers(
    server_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = server_rt
    monkeypatch.setattr("latchkey.runtime.KEPT_SERVER_CONNECTION_IDLE_SECONDS", 60.0)
    first = rt.writer.run(_backend_pid)
    with rt.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({first})")
    with pytest.raises(ServiceUnavailable):
        rt.writer.run(insert("lost"))
    assert rt.writer.run(insert("recovered")) == "recovered"
    with rt.read() as conn:
        keys = conn.execute(select(used_challenges.c.id)).scalars().all()
    assert keys == ["recovered"]
