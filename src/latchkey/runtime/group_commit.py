"""Group commit: one writer thread per process commits the hot path's writes in groups.

A request queues its writes as a job (a function of the writer's connection) with a future;
the writer runs every queued job in one transaction, so one commit (one fsync on SQLite) serves
the whole group, and resolves the futures only after that commit: nothing is acknowledged
before it is durable. While other requests are on their way to the queue (`expect`), the writer
lingers up to `linger` seconds for them, as PostgreSQL's commit_delay does; otherwise it commits
at once. A job that raises undoes the whole group, which is then run again one job per
transaction, so the raising job fails alone. A full queue refuses new jobs (503, Retry-After)
instead of growing without bound.

Where an event loop serves the hot path (`attach`, on SQLite), the writer runs on that loop:
the group's statements run on the loop thread, and only the waits (for the write lock when
another writer holds it, for the disk at COMMIT) go to a thread. A writer thread would hand the
GIL back and forth with the loop around every statement (the sqlite3 module releases it for
each step), which costs more CPU than the statements, and delays each by up to the interpreter's
switch interval while the loop is busy. Meanwhile the requests that arrive while a group is
committing queue for the next: the groups form by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import LatchkeyError, ServiceUnavailable
from latchkey.runtime.ratelimit import RateLimited
from latchkey.store import driver

Job = Callable[[Connection], Any]
Transaction = Callable[[], AbstractContextManager[Connection]]

MAX_QUEUE = 1024
MAX_GROUP = 256
LINGER_SECONDS = 0.001
IDLE_SECONDS = 5.0  # the thread ends after this long without work; the next job starts it
STATS_FILE = "LATCHKEY_BENCH_WRITER_STATS"


class RunAlone(Exception):
    """A job's undoable block failed inside a shared group (`undoable`): the writer undoes the
    group and runs each of its jobs again in a transaction of its own."""


_running = threading.local()


def alone() -> bool:
    """Whether the running job has its transaction to itself (always, outside the writer)."""
    return bool(getattr(_running, "alone", True))


def undoable(conn: Connection) -> AbstractContextManager[None]:
    """A block of a job whose writes are undone if it raises a LatchkeyError, the job's other
    writes kept. Alone in its transaction that is a savepoint. In a shared group the block runs
    without one (SQLite copies every page a savepoint changes into its journal, a third of a
    sign-in's write cost), and a failure undoes the whole group instead (RunAlone): its jobs run
    again one per transaction, this one with its savepoint."""
    return driver.savepoint(conn) if alone() else _GROUPED


class _Grouped:
    """`undoable` in a shared group: a class, not a generator (every sign-in enters one)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, _traceback: Any) -> None:
        if isinstance(error, LatchkeyError) and not isinstance(error, ServiceUnavailable):
            raise RunAlone from error


_GROUPED = _Grouped()


class WriterBusy(RateLimited):
    """The writer's queue is full: the server is past its capacity for now. A 503 with
    Retry-After (a RateLimited, so every surface sends the header), like a database outage."""

    code = "service_unavailable"
    status = 503


@dataclass(frozen=True)
class Phases:
    """The writer's transaction in its steps, for a writer on an event loop. `try_begin` runs on
    the loop and gives None when beginning would wait (the write lock is taken); `begin` and
    `commit` may wait and run in a thread; `rollback` is quick. `commit` and `rollback` end the
    transaction whatever happens (and release what `begin` took)."""

    try_begin: Callable[[], Connection | None]
    begin: Callable[[], Connection]
    commit: Callable[[Connection], None]
    rollback: Callable[[Connection], None]


@dataclass
class Expected:
    queued: bool = False


class _Expecting:
    """`GroupWriter.expect`'s block: a class, not a generator-based context manager (every
    sign-in enters one)."""

    __slots__ = ("_expected", "_writer")

    def __init__(self, writer: GroupWriter) -> None:
        self._writer = writer
        self._expected = Expected()

    def __enter__(self) -> Expected:
        self._writer._expecting(+1)
        return self._expected

    def __exit__(self, *_exc: object) -> None:
        if not self._expected.queued:
            self._writer._expecting(-1)


@dataclass
class Stats:
    groups: int = 0
    jobs: int = 0
    published_at: float = 0.0

    def mean_group(self) -> float:
        return self.jobs / self.groups if self.groups else 0.0

    def count(self, jobs: int) -> None:
        self.groups += 1
        self.jobs += jobs
        # For bench/: the counts so far, in a file it reads before and after a measured window
        # (at most ten writes a second; only when LATCHKEY_BENCH_WRITER_STATS names the file).
        path = os.environ.get(STATS_FILE)
        if path and time.monotonic() - self.published_at > 0.1:
            self.published_at = time.monotonic()
            with contextlib.suppress(OSError):
                Path(path + ".new").write_text(f"{self.groups} {self.jobs}\n")
                os.replace(path + ".new", path)


class GroupWriter:
    def __init__(
        self,
        transaction: Transaction,
        *,
        max_queue: int = MAX_QUEUE,
        linger: float = LINGER_SECONDS,
        release: Callable[[], None] | None = None,
    ) -> None:
        """`release`, when given, is called by the writer thread when it ends idle (it may
        close a connection `transaction` keeps between groups)."""
        self._transaction = transaction
        self._release = release
        self.max_queue = max_queue
        self.linger = linger
        self.stats = Stats()
        self._queue: deque[tuple[Job, Future[Any]]] = deque()
        self._expected = 0  # requests that will queue a job soon
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        # On an event loop (`attach`): the loop, its thread, the transaction's steps, the
        # thread that waits for them, and whether a drain task is on its way.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._phases: Phases | None = None
        self._waiter: ThreadPoolExecutor | None = None
        self._draining = False

    def expect(self) -> _Expecting:
        """Around the work a request does before it queues its job (reads, signature checks):
        the writer lingers for it instead of committing a group without it. Queue the job with
        `submit(job, expected)` inside the block."""
        return _Expecting(self)

    def _expecting(self, change: int) -> None:
        with self._cond:
            self._expected += change
            if change < 0:
                self._cond.notify()

    def submit(self, job: Job, expected: Expected | None = None) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if expected is not None and not expected.queued:
                expected.queued = True
                self._expected -= 1
            if len(self._queue) >= self.max_queue:
                self._cond.notify()
                raise WriterBusy("the server is busy; try again shortly", retry_after=1)
            self._queue.append((job, future))
            if self._loop is not None:
                if not self._draining:
                    self._draining = True
                    self._schedule_drain()
            elif self._thread is None:
                self._start()
            self._cond.notify()
        return future

    def attach(self, loop: asyncio.AbstractEventLoop, phases: Phases) -> None:
        """Run the groups on `loop` from now on (called on that loop's thread)."""
        with self._cond:
            self._loop, self._loop_thread, self._phases = loop, threading.get_ident(), phases
            self._waiter = ThreadPoolExecutor(1, thread_name_prefix="latchkey-commit")
            if self._queue and not self._draining:
                self._draining = True
                self._schedule_drain()

    async def detach(self) -> None:
        """Back to a writer thread, once what is queued on the loop is committed."""
        while True:
            with self._cond:
                if not self._draining:
                    waiter, self._loop, self._phases, self._waiter = self._waiter, None, None, None
                    if self._queue:
                        self._start()
                    break
            await asyncio.sleep(0.001)
        if waiter is not None:
            waiter.shutdown(wait=False)

    def _schedule_drain(self) -> None:
        """Under the lock: start a drain task on the loop, from whichever thread submits."""
        loop = self._loop
        assert loop is not None
        if threading.get_ident() == self._loop_thread and _running_loop() is loop:
            loop.create_task(self._drain())
            return
        try:
            if threading.get_ident() == self._loop_thread:
                raise RuntimeError("the loop is not running")
            loop.call_soon_threadsafe(lambda: loop.create_task(self._drain()))
        except RuntimeError:  # the loop ended without detaching: a thread takes over
            if self._waiter is not None:
                self._waiter.shutdown(wait=False)
            self._loop, self._phases, self._waiter, self._draining = None, None, None, False
            if self._thread is None:
                self._start()

    async def _drain(self) -> None:
        try:
            while True:
                # One pass of the loop first: requests ready to queue their write join this group.
                await asyncio.sleep(0)
                with self._cond:
                    group: list[tuple[Job, Future[Any]]] = []
                    while self._queue and len(group) < MAX_GROUP:
                        group.append(self._queue.popleft())
                    if not group:
                        self._draining = False
                        return
                await self._commit_on_loop(group)
        except BaseException:
            with self._cond:
                self._draining = False
            raise

    async def _commit_on_loop(self, group: list[tuple[Job, Future[Any]]]) -> None:
        phases, waiter = self._phases, self._waiter
        assert phases is not None
        assert waiter is not None
        loop = asyncio.get_running_loop()
        try:
            conn = phases.try_begin()
            if conn is None:
                conn = await _begun_in(loop, waiter, phases)
            try:
                results = _run_jobs(conn, group)
            except BaseException:
                phases.rollback(conn)
                raise
            await loop.run_in_executor(waiter, phases.commit, conn)
        except Exception as error:
            for one in _again_alone(group, error):
                await self._commit_on_loop(one)
            return
        self._resolve(group, results)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="latchkey-writer", daemon=True)
        self._thread.start()

    def run(self, job: Job) -> Any:
        """Queue the job and wait for its committed result (from a worker thread)."""
        return self.submit(job).result()

    def _run(self) -> None:
        try:
            while True:
                group = self._take()
                if not group:
                    if self._release is not None:
                        self._release()
                    return
                self._commit(group)
        finally:
            with self._cond:  # an unexpected end: a new thread takes over what is queued
                if self._thread is threading.current_thread():
                    self._thread = None
                    if self._queue:
                        self._start()

    def _take(self) -> list[tuple[Job, Future[Any]]]:
        with self._cond:
            idle_until = time.monotonic() + IDLE_SECONDS
            while not self._queue:
                left = idle_until - time.monotonic()
                if left <= 0:
                    self._thread = None  # under the lock: the next submit starts a new one
                    return []
                self._cond.wait(left)
            # Linger only while requests that will queue are on their way.
            deadline = time.monotonic() + self.linger
            while self._expected > 0 and len(self._queue) < MAX_GROUP:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            group: list[tuple[Job, Future[Any]]] = []
            while self._queue and len(group) < MAX_GROUP:
                group.append(self._queue.popleft())
            return group

    def _commit(self, group: list[tuple[Job, Future[Any]]]) -> None:
        try:
            with self._transaction() as conn:
                results = _run_jobs(conn, group)
        except Exception as error:
            for one in _again_alone(group, error):
                self._commit(one)
            return
        self._resolve(group, results)

    def _resolve(self, group: list[tuple[Job, Future[Any]]], results: list[Any]) -> None:
        self.stats.count(len(group))
        for (_job, future), result in zip(group, results, strict=True):
            future.set_result(result)


async def _begun_in(
    loop: asyncio.AbstractEventLoop, waiter: ThreadPoolExecutor, phases: Phases
) -> Connection:
    """`phases.begin` in the waiting thread. Cancelled meanwhile (the server stopping), the
    transaction it begins is rolled back once begun, so the write lock is not left taken."""
    begun = loop.run_in_executor(waiter, phases.begin)
    try:
        return await asyncio.shield(begun)
    except asyncio.CancelledError:

        def undo(done: asyncio.Future[Connection]) -> None:
            if not done.cancelled() and done.exception() is None:
                phases.rollback(done.result())

        begun.add_done_callback(undo)
        raise


def _again_alone(
    group: list[tuple[Job, Future[Any]]], error: Exception
) -> list[list[tuple[Job, Future[Any]]]]:
    """After a group failed with `error`: its jobs to run again, each in a transaction of its
    own (one job raised, so only that one must fail); or none, each future failed with the
    error (a job alone, or the database away)."""
    if len(group) > 1 and not isinstance(error, ServiceUnavailable):
        return [[one] for one in group]
    for _job, future in group:
        future.set_exception(error)
    return []


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _run_jobs(conn: Connection, group: list[tuple[Job, Future[Any]]]) -> list[Any]:
    _running.alone = len(group) == 1
    try:
        return [job(conn) for job, _future in group]
    finally:
        _running.alone = True
