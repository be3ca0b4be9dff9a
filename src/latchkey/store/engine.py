"""Engines for SQLite (the default, one machine) and PostgreSQL (many), set up the same way."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from latchkey.errors import ConfigError
from latchkey.store import json_text

SUPPORTED = ("sqlite", "postgresql")


def normalize_url(url: str) -> str:
    """Accept the URLs operators write (postgresql://...); use the driver we ship (psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database URL {url!r} cannot be parsed: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigError(f"database URL {url!r}: {backend!r} is not one of {', '.join(SUPPORTED)}")
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **options: Any) -> Engine:
    url = normalize_url(url)
    options.setdefault("json_serializer", json_text.dumps)
    options.setdefault("json_deserializer", json_text.loads)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # libpq waits for ever on an address that never answers: give up after 10 s unless told.
    if "connect_timeout" not in make_url(url).query:
        options.setdefault("connect_args", {"connect_timeout": 10})
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; FULL sync keeps every commit on disk (durable).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# Set in a connection's `info` by a caller that ran BEGIN IMMEDIATE on the driver itself.
BEGUN = "latchkey_begun"


def _sqlite_begin(connection: Any) -> None:
    if connection.info.pop(BEGUN, False):
        return
    # IMMEDIATE takes the write lock up front, so read-then-write transactions cannot deadlock;
    # read-only transactions (Runtime.read) take none.
    begin = "BEGIN" if connection.get_execution_options().get("latchkey_read_only") else _IMMEDIATE
    # Straight on the driver's connection: this runs for every transaction, and a full
    # statement execution costs more than the BEGIN itself. Errors become SQLAlchemy's, as
    # exec_driver_sql would raise them (a locked database is an OperationalError).
    try:
        connection.connection.driver_connection.execute(begin)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(begin, (), exc, sqlite3.Error) from exc


_IMMEDIATE = "BEGIN IMMEDIATE"
