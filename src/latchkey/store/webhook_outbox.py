"""The webhook outbox: deliveries queued with their event, claimed by workers, marked done.

Deliveries are claimed like mail (store/mail_outbox.py): a claim is a lease (locked_until), so a
worker that dies mid-delivery leaves the row to be taken over once the lease ends; `attempts`
counts claims, so a delivery that crashes its worker every time is given up after MAX_ATTEMPTS
like one that fails cleanly. Only deliveries of enabled endpoints are claimed: disabling an
endpoint pauses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, and_, bindparam, insert, literal, select, update

from latchkey.ids import new_id
from latchkey.store import leases
from latchkey.store.leases import lease_due
from latchkey.store.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from latchkey.webhooks.models import Claimed

MAX_ATTEMPTS = 32  # with the backoff below, about a day: a receiver down overnight loses nothing
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
MAX_ERROR_CHARS = 1000

_e = webhook_endpoints.c
_d = webhook_deliveries.c


def _enqueue_statement() -> Any:
    # INSERT ... SELECT from the endpoint's row: nothing is queued for an endpoint another
    # process has disabled or deleted since the caller read it (a plain INSERT would then break
    # the foreign key and, with it, the ceremony's transaction).
    def param(name: str, column: str) -> Any:
        return bindparam(name, type_=webhook_deliveries.c[column].type)

    columns = ["id", "tenant_id", "endpoint_id", "event_id", "event_type", "payload"]
    columns += ["redelivery_of", "attempts", "next_attempt_at", "created_at"]
    source = select(
        param("id", "id"),
        _e.tenant_id,
        _e.id,
        param("event_id", "event_id"),
        param("event_type", "event_type"),
        param("payload", "payload"),
        param("redelivery_of", "redelivery_of"),
        literal(0, Integer),
        param("now", "next_attempt_at"),
        param("now", "created_at"),
    ).where(_e.id == bindparam("endpoint_id"), _e.tenant_id == bindparam("tenant_id"), _e.enabled)
    # rowcount is kept for an INSERT only when asked (it says whether the row was made).
    return (
        insert(webhook_deliveries)
        .from_select(columns, source)
        .execution_options(preserve_rowcount=True)
    )


_ENQUEUE = _enqueue_statement()


def enqueue(
    conn: Connection,
    *,
    tenant_id: str,
    endpoint_ids: Sequence[str],
    event_id: str,
    event_type: str,
    payload: str,
    now: datetime,
    redelivery_of: str | None = None,
) -> list[str]:
    """Queue one delivery per endpoint in the caller's transaction (sent only if it commits);
    only the tenant's endpoints that are enabled get one. The ids of the deliveries made."""
    made: list[str] = []
    for endpoint_id in endpoint_ids:
        delivery_id = new_id()
        params = {
            "id": delivery_id,
            "tenant_id": tenant_id,
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "event_type": event_type,
            "payload": payload,
            "redelivery_of": redelivery_of,
            "now": now,
        }
        if conn.execute(_ENQUEUE, params).rowcount == 1:
            made.append(delivery_id)
    return made


def _due(now: datetime) -> list[Any]:
    return leases.due(webhook_deliveries, done=_d.delivered_at, max_attempts=MAX_ATTEMPTS, now=now)


def _due_for_enabled(now: datetime) -> Any:
    enabled = select(_e.id).where(_e.id == _d.endpoint_id, _e.enabled).exists()
    return and_(*_due(now), enabled)


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a pass would find work (a read, so an idle worker takes no write lock)."""
    query = select(_d.id).where(_due_for_enabled(now)).limit(1)
    return conn.execute(query).first() is not None


def claim_due(
    conn: Connection, now: datetime, lease_seconds: float, limit: int = 1
) -> list[Claimed]:
    """Lease up to `limit` due deliveries of enabled endpoints, oldest first (store/leases.py)."""
    rows = lease_due(
        conn,
        webhook_deliveries,
        due=_due(now),
        pick=_due_for_enabled(now),
        now=now,
        lease_seconds=lease_seconds,
        limit=limit,
        returning=[_d.id],
    )
    return [_claimed(conn, row.id, now) for row in rows]


def _claimed(conn: Connection, delivery_id: str, now: datetime) -> Claimed:
    row = conn.execute(
        select(
            _d.id,
            _d.tenant_id,
            _d.endpoint_id,
            _d.event_id,
            _d.payload,
            _d.attempts,
            _d.locked_until,
            _e.url,
            _e.sealed_secret,
            _e.previous_sealed_secret,
            _e.previous_secret_expires_at,
        )
        .join_from(webhook_deliveries, webhook_endpoints, _e.id == _d.endpoint_id)
        .where(_d.id == delivery_id)
    ).one()
    expires = row.previous_secret_expires_at
    previous = row.previous_sealed_secret if expires is not None and expires > now else None
    return Claimed(
        id=row.id,
        tenant_id=row.tenant_id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        payload=row.payload,
        attempts=row.attempts,
        leased_until=row.locked_until,
        url=row.url,
        sealed_secret=row.sealed_secret,
        previous_sealed_secret=previous,
    )


def record_attempt(
    conn: Connection,
    delivery_id: str,
    *,
    attempt: int,
    attempted_at: datetime,
    status: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    conn.execute(
        insert(webhook_attempts).values(
            id=new_id(),
            delivery_id=delivery_id,
            attempt=attempt,
            attempted_at=attempted_at,
            status=status,
            error=error[:MAX_ERROR_CHARS] if error else None,
            duration_ms=duration_ms,
        )
    )


def mark_delivered(conn: Connection, delivery_id: str, now: datetime, status: int) -> bool:
    """Record the delivery; False if it was already marked delivered. The lease is not checked:
    a delivery is a fact, whoever holds the row now."""
    query = (
        update(webhook_deliveries)
        .where(_d.id == delivery_id, _d.delivered_at.is_(None))
        .values(delivered_at=now, locked_until=None, last_status=status, last_error=None)
    )
    return conn.execute(query).rowcount == 1


def mark_failed(
    conn: Connection,
    delivery_id: str,
    *,
    status: int | None,
    error: str,
    next_attempt_at: datetime,
    leased_until: datetime | None = None,
) -> bool:
    """Record a failed attempt and when to retry; False if the delivery was made meanwhile or
    another worker holds it now (its lease ran out)."""
    held = [_d.id == delivery_id, _d.delivered_at.is_(None)]
    if leased_until is not None:
        held.append(_d.locked_until == leased_until)
    query = (
        update(webhook_deliveries)
        .where(*held)
        .values(
            last_status=status,
            last_error=error[:MAX_ERROR_CHARS],
            next_attempt_at=next_attempt_at,
            locked_until=None,
        )
    )
    return conn.execute(query).rowcount == 1


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: 10 s, 20 s, 40 s, ... at most 1 h."""
    return leases.retry_delay(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)
