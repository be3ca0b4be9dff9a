"""What every service call needs: the database engine, the clock and attestation settings.
The composition root the layers share (the HTTP surfaces, the CLI, the workers and the services
are all handed one Runtime), so it lives beside them rather than inside services/. The package
also holds the process-wide machinery a Runtime owns: its TTL cache (`cache`), the group-commit
writer (`group_commit`) and the rate limiter (`ratelimit`). It may import config, the store and
the records below it, never a service or a surface."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql import ClauseElement

from latchkey.clock import Clock, utcnow
from latchkey.config import Settings
from latchkey.errors import ConfigError, ServiceUnavailable
from latchkey.models import Event
from latchkey.runtime.cache import TTLCache
from latchkey.runtime.group_commit import Expected, GroupWriter, Job, Phases
from latchkey.runtime.ratelimit import (
    Counter,
    DatabaseCounter,
    Limiter,
    MemoryCounter,
    RedisCounter,
    Rule,
)
from latchkey.runtime.synced_counter import SyncedCounter
from latchkey.store import driver
from latchkey.store.engine import BEGUN, make_engine

# Called with each recorded event inside the event's own transaction (webhooks queue their
# deliveries there); set by whoever starts the process, so recording imports no consumer.
EventHook = Callable[[Connection, "Runtime", Event], object]


# A writer connection to PostgreSQL idle longer than this is pinged (checked out of the pool
# again) before its next group.
KEPT_SERVER_CONNECTION_IDLE_SECONDS = 1.0


@dataclass
class Runtime:
    engine: Engine
    clock: Clock = utcnow
    trust_anchors: Mapping[str, Sequence[bytes]] = field(default_factory=dict)
    # Encrypts signing keys at rest (AES-256-GCM); None where nothing needs it (tests of the store).
    master_key: bytes | None = None
    # Where issuer URLs are built from when a request reaches a tenant by path (/t/{id}/).
    public_url: str = "http://localhost:8000"
    limiter: Limiter = field(default_factory=lambda: Limiter(MemoryCounter()))
    on_event: EventHook | None = None
    # How soon FIDO metadata another process or node loaded applies here (seconds).
    metadata_check_seconds: float = 30.0

    def now(self) -> datetime:
        return self.clock()

    def cache(self, name: str, ttl: float = 3.0, max_entries: int = 10_000) -> TTLCache[Any, Any]:
        """This runtime's cache of that name (tenants, API keys, decrypted signing keys, ...);
        `ttl` and `max_entries` apply when the first call makes it."""
        found = self._caches.get(name)
        if found is None:
            found = self._caches.setdefault(name, TTLCache(ttl, max_entries))
        return found

    def __post_init__(self) -> None:
        self._caches: dict[str, TTLCache[Any, Any]] = {}
        self._bound: Connection | None = None
        # SQLite has one writer at a time. Queueing this process's writers on a lock is fair and
        # immediate, where SQLite's busy handler would make them sleep and retry.
        self._sqlite_lock = threading.Lock()  # the group writer's phases take it by hand
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            self._sqlite_lock if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        # The hot path's writes, committed in groups (runtime/group_commit.py).
        self._kept: Connection | None = None
        self._kept_used = 0.0  # time.monotonic() when the kept server connection last ran
        self._kept_reads = (
            driver.KeptReads(self.engine) if self.engine.dialect.name == "sqlite" else None
        )
        self.writer = GroupWriter(self._group_transaction, release=self._release_kept)

    def submit(self, job: Job, expected: Expected | None = None) -> Future[Any]:
        """Queue a write for the group writer; its future resolves after the commit. Inside a
        bound runtime's transaction the job runs at once, in that transaction."""
        if self._bound is None:
            return self.writer.submit(job, expected)
        done: Future[Any] = Future()
        done.set_result(job(self._bound))
        return done

    def bound(self, conn: Connection) -> Runtime:
        """This runtime with every transaction() and read() inside `conn`'s open transaction,
        so that several service calls (and the audit event of an operator's change) commit or
        roll back together. Its caches are its own, so nothing uncommitted leaks into the
        shared ones; call clear_caches() on this runtime after the commit."""
        scoped = copy.copy(self)
        scoped._bound = conn
        scoped._caches = {}
        return scoped

    def clear_caches(self) -> None:
        """Forget every cached lookup (after a change made through a bound runtime)."""
        for cache in list(self._caches.values()):
            cache.clear()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One read-write database transaction; a lost database is a 503, never a traceback."""
        if self._bound is not None:
            yield self._bound
            return
        with self._write_lock, _unavailable_as_503(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _group_transaction(self) -> Iterator[Connection]:
        """The group writer's transaction, when the writer is a thread (Phases on a loop)."""
        if self._bound is not None:
            with self.transaction() as conn:
                yield conn
            return
        if self.engine.dialect.name != "sqlite":
            with _unavailable_as_503():
                conn = self._kept_server_connection()
                try:
                    with conn.begin():
                        yield conn
                finally:
                    self._kept_used = time.monotonic()
            return
        conn = self._begin_group()
        try:
            yield conn
        except BaseException:
            self._rollback_group(conn)
            raise
        self._commit_group(conn)

    def attach_writer(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the group writer on `loop` (the server's; called on it). On SQLite only: on
        PostgreSQL every statement is a round trip the loop must not wait for."""
        if self.engine.dialect.name == "sqlite" and self._bound is None:
            phases = Phases(
                self._try_begin_group, self._begin_group, self._commit_group, self._rollback_group
            )
            self.writer.attach(loop, phases)

    # The writer's transactions run on a connection it keeps between groups: SQLite empties a
    # connection's page cache whenever another connection has committed since its last
    # transaction, so a connection taken from the pool (last used by a reader, or by an older
    # group) starts cold; the writer's own stays warm, and no pool checkout is paid per group.
    # The write lock orders it with this process's other writers. Its busy timeout is 0: a
    # BEGIN that would wait for another process's write is tried again where waiting is fine.

    def _try_begin_group(self) -> Connection | None:
        """BEGIN IMMEDIATE on the writer's connection if nothing holds the write lock; None
        (nothing taken) if something does."""
        if not self._sqlite_lock.acquire(blocking=False):
            return None
        try:
            with _unavailable_as_503():
                kept = self._writer_connection()
                try:
                    _driver_connection(kept).execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                        raise
                    self._sqlite_lock.release()
                    return None
                return _begun(kept)
        except BaseException:
            self._sqlite_lock.release()
            raise

    def _begin_group(self) -> Connection:
        """BEGIN IMMEDIATE on the writer's connection, waiting for the write lock."""
        self._sqlite_lock.acquire()
        try:
            with _unavailable_as_503():
                kept = self._writer_connection()
                raw = _driver_connection(kept)
                raw.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                try:
                    raw.execute("BEGIN IMMEDIATE")
                finally:
                    raw.execute("PRAGMA busy_timeout=0")
                return _begun(kept)
        except BaseException:
            self._sqlite_lock.release()
            raise

    def _commit_group(self, conn: Connection) -> None:
        try:
            with _unavailable_as_503():
                transaction = conn.get_transaction()
                assert transaction is not None
                try:
                    transaction.commit()
                except BaseException:
                    with contextlib.suppress(Exception):
                        transaction.rollback()
                    raise
        finally:
            self._sqlite_lock.release()

    def _rollback_group(self, conn: Connection) -> None:
        try:
            with _unavailable_as_503():
                transaction = conn.get_transaction()
                if transaction is not None:
                    transaction.rollback()
        finally:
            self._sqlite_lock.release()

    def _writer_connection(self) -> Connection:
        """Under the write lock."""
        kept = self._kept
        if kept is None or kept.closed or kept.invalidated:
            if kept is not None:
                kept.close()
            kept = self._kept = self.engine.connect()
            _driver_connection(kept).execute("PRAGMA busy_timeout=0")
        return kept

    def _kept_server_connection(self) -> Connection:
        """The writer's connection to a database server (its thread is the only user), kept
        between groups: a pool checkout costs a ping round trip (pre_ping) and the pool's
        bookkeeping, once per group. After a pause it goes back to the pool and is checked out
        again, pinged: a connection the server dropped meanwhile (a restart) is replaced before
        a group is run on it, as pre_ping does."""
        kept = self._kept
        if kept is not None and (
            kept.closed
            or kept.invalidated
            or time.monotonic() - self._kept_used > KEPT_SERVER_CONNECTION_IDLE_SECONDS
        ):
            kept.close()
            kept = None
        if kept is None:
            kept = self._kept = self.engine.connect()
        return kept

    def _release_kept(self) -> None:
        """The writer went idle: its connection goes back to the pool."""
        with self._write_lock:
            kept, self._kept = self._kept, None
            if kept is not None:
                kept.close()

    def first(self, statement: ClauseElement, params: Mapping[str, Any]) -> Any:
        """One statement's first row (store/driver.py's `first`), for the hot path's lookups.
        On SQLite it runs outside a transaction, on a connection kept for the calling thread:
        one statement is its own consistent snapshot. A lost database is a 503."""
        if self._bound is not None:
            return driver.first(self._bound, statement, params)
        if self._kept_reads is None:
            with self.read() as conn:
                return driver.first(conn, statement, params)
        with _unavailable_as_503():
            return self._kept_reads.first(statement, params)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: on SQLite it takes no write lock, so reads never queue
        behind writes."""
        if self._bound is not None:
            yield self._bound
            return
        with _unavailable_as_503(), self.engine.connect() as conn:
            reading = conn.execution_options(latchkey_read_only=True)
            with reading.begin():
                yield reading


_BUSY_TIMEOUT_MS = 30_000


def _driver_connection(conn: Connection) -> Any:
    return conn.connection.driver_connection


def _begun(conn: Connection) -> Connection:
    """SQLAlchemy's transaction over the BEGIN IMMEDIATE just run on the driver's connection
    (store/engine.py's begin hook skips its own BEGIN when told)."""
    conn.info[BEGUN] = True
    conn.begin()
    return conn


@contextmanager
def _unavailable_as_503() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        raise ServiceUnavailable("the database is unavailable; try again shortly") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise ServiceUnavailable("the database connection was lost") from exc
        raise


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from, for the event log."""

    ip: str | None = None
    user_agent: str | None = None


def _counter(settings: Settings, engine: Engine) -> Counter:
    """Where rate limits are counted: Redis when configured; the database when it is shared
    (PostgreSQL) or when several workers share a SQLite file; else this process's memory."""
    store = settings.rate_limit_store
    if store == "auto":
        if settings.redis_url:
            store = "redis"
        elif engine.dialect.name == "postgresql":
            store = "database"
        else:
            store = "memory"
    if store == "redis":
        if not settings.redis_url:
            raise ConfigError(
                "LATCHKEY_RATE_LIMIT_STORE is 'redis' but LATCHKEY_REDIS_URL is not set"
            )
        return RedisCounter(settings.redis_url)
    if store != "database":
        return MemoryCounter()
    if settings.rate_limit_sync_seconds == 0:
        return DatabaseCounter(engine)
    return SyncedCounter(engine, sync_seconds=settings.rate_limit_sync_seconds)


def build(settings: Settings) -> Runtime:
    """The runtime the server and the CLI use, from checked settings whose master key is the
    one to run with (modes.master_key decides where it comes from)."""
    engine = make_engine(settings.database_url)
    return Runtime(
        engine=engine,
        master_key=settings.master_key,
        public_url=settings.public_url or f"http://localhost:{settings.port}",
        limiter=Limiter(
            _counter(settings, engine),
            per_ip=Rule.parse(settings.challenge_rate_limit),
            per_tenant=Rule.parse(settings.tenant_rate_limit),
        ),
        metadata_check_seconds=settings.metadata_check_seconds,
    )
