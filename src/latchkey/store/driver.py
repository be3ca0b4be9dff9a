"""The sign-in hot path's statements, run straight on the driver's cursor.

A Core statement costs about ten times more through SQLAlchemy's execution machinery than the
driver's own execute (15 µs against 1.5 µs for a one-row INSERT on SQLite). For the few
statements every sign-in runs, this module compiles the statement once per dialect and set of
parameter names, keeps the bind and result processors SQLAlchemy's types give (UTC datetimes,
JSON, booleans), and runs it on the driver connection under the caller's SQLAlchemy
transaction. Driver errors are raised as SQLAlchemy's (so an outage is still a 503), and a
lost connection is invalidated as SQLAlchemy would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.expression import Select

from latchkey.store.types import UTCDateTime, sqlite_datetime_of, sqlite_text_of

Processor = Callable[[Any], Any]


class Row(tuple[Any, ...]):
    """A result row by position or, as SQLAlchemy's rows, by column name (the first column of
    that name)."""

    _fields: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._fields[name]]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class _Form:
    sql: str
    # Positional drivers: the given values in the statement's order (`ordered`), then each of
    # `slots` (position, processor) processed; named: the `binds` (name, processor) processed.
    ordered: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    slots: tuple[tuple[int, Processor], ...]
    binds: tuple[tuple[str, Processor], ...]
    # A result row's values (position, processor) to process, and whether it has columns.
    results: tuple[tuple[int, Processor], ...]
    defaults: dict[str, Any]
    row: type[Row] = Row


# Keyed by the statement object (kept alive here, so its id is never reused) and the names of
# the parameters given; statements are module constants, so this stays small.
_FORMS: dict[tuple[int, str, tuple[str, ...]], tuple[ClauseElement, _Form]] = {}


def _form(dialect: Dialect, statement: ClauseElement, keys: tuple[str, ...]) -> _Form:
    cache_key = (id(statement), dialect.name, keys)
    cached = _FORMS.get(cache_key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
    # Literal values in the statement (`sign_count == 0`) are bound parameters too.
    defaults = {n: b.effective_value for n, b in compiled.binds.items() if n not in keys}
    processors = {
        name: _bind_processor(bind.type, dialect) for name, bind in compiled.binds.items()
    }
    binds = tuple((n, p) for n, p in processors.items() if p is not None)
    results: tuple[tuple[int, Processor], ...] = ()
    row: type[Row] = Row
    columns: list[Any] = []
    if isinstance(statement, Select):
        columns = list(statement.selected_columns)
    elif isinstance(statement, UpdateBase) and statement._returning:
        columns = list(statement.exported_columns)  # RETURNING
    if columns:
        processed = ((i, _result_processor(c.type, dialect)) for i, c in enumerate(columns))
        results = tuple((i, p) for i, p in processed if p is not None)
        fields: dict[str, int] = {}
        for index, column in enumerate(columns):
            fields.setdefault(str(column.key), index)
        row = cast(type[Row], type("Row", (Row,), {"_fields": fields, "__slots__": ()}))
    ordered = None
    slots: tuple[tuple[int, Processor], ...] = ()
    if dialect.positional:
        names = tuple(compiled.positiontup or ())
        ordered = _getter(names)
        slots = tuple((i, p) for i, n in enumerate(names) if (p := processors[n]) is not None)
    found = _Form(compiled.string, ordered, slots, binds, results, defaults, row)
    _FORMS[cache_key] = (statement, found)
    return found


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of these names, in their order (itemgetter gives a bare value for one)."""
    if len(names) > 1:
        return cast(Callable[[Mapping[str, Any]], tuple[Any, ...]], itemgetter(*names))
    return lambda values: tuple(values[n] for n in names)


def _bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    """The dialect's own form of the type's processing, as SQLAlchemy's execution uses it."""
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return sqlite_text_of
    return cast(Processor | None, type_.dialect_impl(dialect).bind_processor(dialect))


def _result_processor(type_: Any, dialect: Dialect) -> Processor | None:
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return partial(sqlite_datetime_of, fallback=process)
    return cast(Processor | None, process)


def _arguments(form: _Form, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
    values = {**form.defaults, **params} if form.defaults else params
    if form.ordered is not None:
        arguments = form.ordered(values)
        if not form.slots:
            return arguments
        processed = list(arguments)
        for index, process in form.slots:
            processed[index] = process(processed[index])
        return processed
    named = dict(values)
    for name, process in form.binds:
        if name in named:
            named[name] = process(named[name])
    return named


def _processed(form: _Form, row: Any) -> Any:
    if row is None or form.row is Row:
        return row
    values = list(row)
    for index, process in form.results:
        values[index] = process(values[index])
    return form.row(values)


def execute(conn: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> int:
    """Run the statement (one without rows to read: RETURNING goes through `first`); the
    driver's row count."""
    form = _form(conn.dialect, statement, tuple(params))
    return int(_run(conn, form.sql, _arguments(form, params)).rowcount)


def first(conn: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> Any:
    """The first row, each value through its column type's result processor; None if none.
    For statements of a row or a few: the others are read and dropped."""
    form = _form(conn.dialect, statement, tuple(params))
    return _processed(form, _first_of(_run(conn, form.sql, _arguments(form, params))))


def _first_of(cursor: Any) -> Any:
    row = cursor.fetchone()
    if row is not None:
        # Read to its end: on SQLite a statement not finished holds COMMIT back ("SQL
        # statements in progress") and a read snapshot open, and the cursor is kept (`_cursor`).
        cursor.fetchall()
    return row


class KeptReads:
    """One-statement reads on SQLite connections kept per thread, outside any transaction.

    For the hot path's lookups on the event loop: a single SELECT in autocommit is its own
    read transaction (one consistent snapshot), so it needs no BEGIN and COMMIT, and a kept
    connection no pool checkout and return, which together cost twice the read itself. The
    connections stay checked out of the engine's pool (so an in-memory database is still the
    pool's one connection) until `close`; one of a thread that has ended is closed when
    another thread next takes one."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._kept: dict[int, tuple[threading.Thread, PoolProxiedConnection]] = {}
        self._lock = threading.Lock()

    def first(self, statement: ClauseElement, params: Mapping[str, Any]) -> Any:
        """As `first`: the first row, processed; None if none."""
        dialect = self._engine.dialect
        form = _form(dialect, statement, tuple(params))
        arguments = _arguments(form, params)
        kept = self._connection()
        cursor = _cursor(kept)
        try:
            cursor.execute(form.sql, arguments)
            row = _first_of(cursor)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, kept.dbapi_connection, cursor)
            if lost:
                self._drop(kept)
            raise DBAPIError.instance(
                form.sql,
                arguments,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        return _processed(form, row)

    def _connection(self) -> PoolProxiedConnection:
        found = self._kept.get(threading.get_ident())
        if found is not None:
            return found[1]
        with self._lock:
            for ident, (thread, kept) in list(self._kept.items()):
                if not thread.is_alive():
                    del self._kept[ident]
                    kept.close()
            kept = self._engine.raw_connection()
            self._kept[threading.get_ident()] = (threading.current_thread(), kept)
        return kept

    def _drop(self, kept: PoolProxiedConnection) -> None:
        with self._lock:
            self._kept.pop(threading.get_ident(), None)
        kept.invalidate()

    def close(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
        for _thread, connection in kept:
            connection.close()


@contextmanager
def savepoint(conn: Connection, name: str = "latchkey_job") -> Iterator[None]:
    """A savepoint inside the caller's transaction: released on success, rolled back to (and
    released) when the block raises."""
    _run(conn, f"SAVEPOINT {name}", ())
    try:
        yield
    except BaseException:
        _run(conn, f"ROLLBACK TO SAVEPOINT {name}", ())
        _run(conn, f"RELEASE SAVEPOINT {name}", ())
        raise
    _run(conn, f"RELEASE SAVEPOINT {name}", ())


_CURSOR = "latchkey.driver.cursor"


def _cursor(connection: PoolProxiedConnection) -> Any:
    """The driver connection's cursor for these statements, made once: a cursor per statement
    (and the way to the driver connection through the pool's proxies) cost more than a small
    statement itself. Kept in the pool's info of the connection (emptied when the connection
    is replaced; checked all the same). Every statement on it is read to its end before the
    call returns (`execute`, `_first_of`), so it never holds one open."""
    info = connection.info
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.connection is not connection.dbapi_connection:
        cursor = info[_CURSOR] = cast(Any, connection.driver_connection).cursor()
    return cursor


def _run(conn: Connection, sql: str, arguments: Sequence[Any] | Mapping[str, Any]) -> Any:
    if not conn.in_transaction():
        conn.begin()  # as SQLAlchemy's own execute would (autobegin): the caller commits it
    dbapi = conn.dialect.loaded_dbapi
    cursor = _cursor(conn.connection)
    try:
        cursor.execute(sql, arguments)
    except dbapi.Error as error:
        lost = conn.dialect.is_disconnect(error, conn.connection.dbapi_connection, cursor)
        if lost:
            conn.invalidate(error)
        raise DBAPIError.instance(
            sql, arguments, error, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect
        ) from error
    return cursor
