"""What every service call needs: the database engine, the clock and attestation settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from latchkey.clock import Clock, utcnow
from latchkey.errors import ServiceUnavailable


@dataclass
class Runtime:
    engine: Engine
    clock: Clock = utcnow
    trust_anchors: Mapping[str, Sequence[bytes]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction; a lost database is a 503, never a traceback."""
        try:
            with self.engine.begin() as conn:
                yield conn
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
