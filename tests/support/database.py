"""The databases tests run on: SQLite always, PostgreSQL when LATCHKEY_TEST_POSTGRES_URL names
one. A test gets an empty database (PostgreSQL: a fresh schema) or, through `rt`, one at the
newest schema that was not migrated for it: a copy of a SQLite file migrated once per session,
or a PostgreSQL schema migrated once and truncated after each test. Migrating each test's own
took most of the suite's time (0.3 s on SQLite, 0.6 s and more on PostgreSQL)."""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from latchkey.store import migrate
from latchkey.store.engine import make_engine

POSTGRES_URL = os.environ.get("LATCHKEY_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "PostgreSQL tests skipped: set LATCHKEY_TEST_POSTGRES_URL"
    " (e.g. postgresql://postgres@127.0.0.1:5432/test) to run them"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose connections work in a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"lk_test_{secrets.token_hex(6)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def migrated_sqlite(directory: Path) -> Path:
    """A SQLite database file migrated to the newest schema, closed (its WAL folded in)."""
    path = directory / "latchkey.db"
    made = make_engine(f"sqlite:///{path}")
    migrate.upgrade(made)
    made.dispose()
    return path


def copy_sqlite(template: Path, path: Path) -> None:
    """Copy a closed database, with any files SQLite kept beside it."""
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, path.with_name(path.name + suffix))


class PostgresSchemas:
    """Schemas at the newest version, each migrated once per session and emptied by TRUNCATE
    after every test that used it, for a later one. TRUNCATE gives each table new, empty files,
    as a fresh schema has: rows come back in the order a fresh table gives them (DELETE would
    leave space that later rows fill out of order). A thread truncates one schema while the
    next test runs in another (0.1 to 0.4 s; migrating a fresh schema took 0.6 to 1.5 s)."""

    SCHEMAS = 2

    def __init__(self, url: str) -> None:
        self.url = url
        self._made: list[str] = []
        self._truncate = ""
        self._dirty: queue.Queue[str | None] = queue.Queue()
        self._clean: queue.Queue[str | BaseException] = queue.Queue()
        self._cleaner = threading.Thread(target=self._clean_dirty, daemon=True)
        self._cleaner.start()

    @contextmanager
    def schema(self) -> Iterator[str]:
        """The URL of a schema at the newest version with no rows, until the block ends."""
        if self._clean.empty() and len(self._made) < self.SCHEMAS:
            name = self._new()
        else:
            taken = self._clean.get()
            if isinstance(taken, BaseException):
                raise taken
            name = taken
        try:
            yield self.url_of(name)
        finally:
            self._dirty.put(name)

    def url_of(self, schema: str) -> str:
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}options=-csearch_path%3D{schema}"

    def close(self) -> None:
        self._dirty.put(None)
        self._cleaner.join()
        admin = make_engine(self.url)
        try:
            with admin.begin() as conn:
                for name in self._made:
                    conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        finally:
            admin.dispose()

    def _new(self) -> str:
        name = f"lk_test_{secrets.token_hex(6)}"
        admin = make_engine(self.url)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
        finally:
            admin.dispose()
        self._made.append(name)
        made = make_engine(self.url_of(name))
        try:
            migrate.upgrade(made)
            if not self._truncate:
                names = [t for t in inspect(made).get_table_names() if t != "alembic_version"]
                self._truncate = "TRUNCATE " + ", ".join(f'"{t}"' for t in names)
        finally:
            made.dispose()
        return name

    def _clean_dirty(self) -> None:
        while (name := self._dirty.get()) is not None:
            try:
                database = make_engine(self.url_of(name))
                try:
                    with database.begin() as conn:
                        conn.exec_driver_sql(self._truncate)
                finally:
                    database.dispose()
            except BaseException as exc:  # the test waiting for a schema reports it
                self._clean.put(exc)
            else:
                self._clean.put(name)
