"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out (SQLite stores no zone, so it is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The same conversions on SQLite in one call each, for the hot statements (store/driver.py):
# process_bind_param then SQLite's DATETIME text (SQLAlchemy's storage format,
# "YYYY-MM-DD HH:MM:SS.ffffff"), and back. Checked against SQLAlchemy's own in test_driver.


def sqlite_text_of(value: Any) -> str | None:
    if value is None:
        return None
    last = _last_text
    if value is last[0]:  # a moment written to several columns (created_at, state_updated_at)
        return last[1]
    if value.tzinfo is UTC:  # the clock's: its ISO text without the "+00:00" (half the cost)
        return _remember(value, value.isoformat(" ", "microseconds")[:26])
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return str(value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"))


# The last UTC datetime converted and its text: held here, so `is` cannot match another object
# given the same address later; swapped as one tuple, so threads see a matching pair.
_last_text: tuple[Any, str] = (None, "")


def _remember(value: datetime, text: str) -> str:
    global _last_text
    _last_text = (value, text)
    return text


def sqlite_datetime_of(value: Any, fallback: Any) -> datetime | None:
    """`fallback`: SQLAlchemy's processing, for text not in the storage format."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return cast(datetime | None, fallback(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
