"""Mail outbox rows: queued in the caller's transaction, claimed by one worker at a time.

A claim is a lease (locked_until): a worker that dies after claiming leaves the row to be taken
over once the lease ends, so a message is never lost, at the price of a rare second delivery
(recognisable by its stable Message-ID). `attempts` counts claims, so a message that crashes its
worker every time is given up after MAX_ATTEMPTS like one that fails cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, func, insert, select, update

from latchkey.ids import new_id
from latchkey.mail.message import OutgoingMail
from latchkey.store import leases
from latchkey.store.leases import lease_due
from latchkey.store.tables import mail_outbox

MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=1)
MAX_ERROR_CHARS = 1000

_t = mail_outbox.c


class HasClock(Protocol):
    """The Runtime, as far as this module needs it (the store does not import services)."""

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Claimed:
    """A message leased to one worker until `leased_until`."""

    id: str
    tenant_id: str | None
    mail: OutgoingMail
    attempts: int
    created_at: datetime
    leased_until: datetime


def enqueue(
    conn: Connection,
    clock: HasClock,
    mail: OutgoingMail,
    *,
    tenant_id: str | None = None,
    mail_id: str | None = None,
) -> str:
    """Queue a mail in the caller's transaction (it is sent only if that commits); its id.
    Callers queue through services/mail_queue.py, which seals the bodies first."""
    mail_id = mail_id or new_id()
    now = clock.now()
    conn.execute(
        insert(mail_outbox).values(
            id=mail_id,
            tenant_id=tenant_id,
            sender=mail.sender,
            recipient=mail.recipient,
            subject=mail.subject,
            text_body=mail.text_body,
            html_body=mail.html_body,
            attempts=0,
            next_attempt_at=now,
            locked_until=None,
            last_error=None,
            created_at=now,
            sent_at=None,
        )
    )
    return mail_id


def _due(now: datetime) -> list[Any]:
    return leases.due(mail_outbox, done=_t.sent_at, max_attempts=MAX_ATTEMPTS, now=now)


def claim_due(
    conn: Connection, now: datetime, lease_seconds: float, limit: int = 1
) -> list[Claimed]:
    """Lease up to `limit` due, unsent messages to the caller, oldest first (store/leases.py)."""
    rows = lease_due(
        conn,
        mail_outbox,
        due=_due(now),
        pick=and_(*_due(now)),
        now=now,
        lease_seconds=lease_seconds,
        limit=limit,
        returning=list(mail_outbox.c),
    )
    return [_claimed(row) for row in rows]


def _claimed(row: Any) -> Claimed:
    mail = OutgoingMail(
        sender=row.sender,
        recipient=row.recipient,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
    )
    return Claimed(
        id=row.id,
        tenant_id=row.tenant_id,
        mail=mail,
        attempts=row.attempts,
        created_at=row.created_at,
        leased_until=row.locked_until,
    )


def _held(mail_id: str, leased_until: datetime | None) -> list[Any]:
    """Still unsent and, when the lease is given, still ours (not taken over by another worker
    after our lease ran out)."""
    held = [_t.id == mail_id, _t.sent_at.is_(None)]
    if leased_until is not None:
        held.append(_t.locked_until == leased_until)
    return held


def mark_sent(conn: Connection, mail_id: str, now: datetime) -> bool:
    """Record the delivery; False if the row was already marked sent. The lease is not checked:
    a delivery is a fact, whoever holds the row now."""
    # Sent: the bodies (sealed, but a recovery code all the same) are no longer needed.
    query = (
        update(mail_outbox)
        .where(*_held(mail_id, None))
        .values(sent_at=now, locked_until=None, text_body="", html_body=None)
    )
    return conn.execute(query).rowcount == 1


def mark_failed(
    conn: Connection,
    mail_id: str,
    error: str,
    next_attempt_at: datetime,
    *,
    leased_until: datetime | None = None,
    give_up: bool = False,
) -> bool:
    """Record a failed attempt and when to retry (or, with give_up, never to retry); False if the
    row was sent meanwhile or another worker holds it now."""
    values: dict[str, Any] = {
        "last_error": error[:MAX_ERROR_CHARS],
        "next_attempt_at": next_attempt_at,
        "locked_until": None,
    }
    if give_up:
        # Claims stop at MAX_ATTEMPTS, so this only ever raises the count.
        values["attempts"] = MAX_ATTEMPTS
    query = update(mail_outbox).where(*_held(mail_id, leased_until)).values(**values)
    return conn.execute(query).rowcount == 1


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: 5 s, 10 s, 20 s, ... at most 1 h."""
    return leases.retry_delay(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


def queued_to_since(conn: Connection, recipient: str, since: datetime) -> int:
    """How many mails were queued to `recipient` since `since`, whatever they were."""
    query = select(func.count()).where(_t.recipient == recipient, _t.created_at > since)
    return int(conn.execute(query).scalar_one())


def pending_count(conn: Connection) -> int:
    """Messages still to be delivered (including ones waiting for a retry)."""
    query = select(func.count()).where(_t.sent_at.is_(None), _t.attempts < MAX_ATTEMPTS)
    return conn.execute(query).scalar_one()


def abandoned_count(conn: Connection) -> int:
    """Messages given up on: they stay, with their last_error, for an operator to look at
    (a week after their last attempt: services/pruning.py)."""
    query = select(func.count()).where(_t.sent_at.is_(None), _t.attempts >= MAX_ATTEMPTS)
    return conn.execute(query).scalar_one()
