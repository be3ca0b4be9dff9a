"""Reading a tenant's event log: filters, and cursor pages that neither skip nor repeat an
event while new ones are written (a keyset on (created_at, id), newest first)."""

from __future__ import annotations

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from latchkey.errors import InvalidRequest
from latchkey.models import Event
from latchkey.runtime import Runtime
from latchkey.store import events as event_store
from latchkey.store.tables import events

OUTCOMES = ("success", "failure")
MAX_PAGE = 500


@dataclass(frozen=True)
class EventFilter:
    # A kind ("passkey.authentication"), or a prefix ending in "*" ("admin.*").
    kind: str | None = None
    outcome: str | None = None
    user_id: str | None = None
    credential_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.kind:
            if self.kind.endswith("*"):
                # autoescape: a % or _ in the prefix is matched literally, not as a wildcard.
                found.append(events.c.kind.startswith(self.kind[:-1], autoescape=True))
            else:
                found.append(events.c.kind == self.kind)
        if self.outcome is not None:
            if self.outcome not in OUTCOMES:
                raise InvalidRequest(f"outcome must be one of {', '.join(OUTCOMES)}")
            found.append(events.c.outcome == self.outcome)
        if self.user_id:
            found.append(events.c.user_id == self.user_id)
        if self.credential_id:
            found.append(events.c.credential_id == self.credential_id)
        if self.since is not None:
            found.append(events.c.created_at >= _aware(self.since, "since"))
        if self.until is not None:
            found.append(events.c.created_at < _aware(self.until, "until"))
        return found


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-01-31T00:00:00Z)")
    return value.astimezone(UTC)


def encode_cursor(event: Event) -> str:
    raw = json.dumps([event.created_at.isoformat(), event.id]).encode()
    return urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; anything else is a clear 400, never a 500."""
    try:
        raw = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, event_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if not isinstance(event_id, str) or len(event_id) > 36 or when.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this API returned") from None
    return when.astimezone(UTC), event_id


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_cursor: str | None


def page(
    rt: Runtime, tenant_id: str, given: EventFilter, *, cursor: str | None = None, limit: int = 100
) -> Page:
    """One page, newest first; `next_cursor` is None on the last page."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be 1 to {MAX_PAGE}")
    before = decode_cursor(cursor) if cursor else None
    conditions = given.conditions()
    with rt.read() as conn:
        found = event_store.query(conn, tenant_id, conditions, before=before, limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return Page(found, encode_cursor(found[-1]) if more else None)


def iterate(
    rt: Runtime, tenant_id: str, given: EventFilter, *, batch: int = MAX_PAGE
) -> Iterator[Event]:
    """Every matching event, newest first, one short read transaction per batch (an export of
    a long log holds no transaction open while the client reads)."""
    conditions = given.conditions()
    before: tuple[datetime, str] | None = None
    while True:
        with rt.read() as conn:
            found = event_store.query(conn, tenant_id, conditions, before=before, limit=batch)
        yield from found
        if len(found) < batch:
            return
        before = (found[-1].created_at, found[-1].id)
