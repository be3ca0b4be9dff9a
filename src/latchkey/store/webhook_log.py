"""The webhook delivery log: deliveries and each attempt, as operators read them, and pruning."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select

from latchkey.store.tables import webhook_attempts, webhook_deliveries
from latchkey.store.webhook_outbox import MAX_ATTEMPTS
from latchkey.webhooks.models import DELIVERED, FAILED, PENDING, Attempt, Delivery

_d = webhook_deliveries.c
_a = webhook_attempts.c


def _delivery(row: Any) -> Delivery:
    if row.delivered_at is not None:
        state = DELIVERED
    elif row.attempts >= MAX_ATTEMPTS:
        state = FAILED
    else:
        state = PENDING
    return Delivery(
        id=row.id,
        tenant_id=row.tenant_id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=row.payload,
        redelivery_of=row.redelivery_of,
        state=state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def get_delivery(conn: Connection, tenant_id: str, delivery_id: str) -> Delivery | None:
    query = select(webhook_deliveries).where(_d.id == delivery_id, _d.tenant_id == tenant_id)
    row = conn.execute(query).first()
    return None if row is None else _delivery(row)


def list_deliveries(
    conn: Connection,
    tenant_id: str,
    *,
    endpoint_id: str | None = None,
    event_id: str | None = None,
    state: str | None = None,
    before: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first; `before` is the (created_at, id) of the last one seen, for the next page."""
    query = select(webhook_deliveries).where(_d.tenant_id == tenant_id)
    if endpoint_id is not None:
        query = query.where(_d.endpoint_id == endpoint_id)
    if event_id is not None:
        query = query.where(_d.event_id == event_id)
    if state is not None:
        query = query.where(*_in_state(state))
    if before is not None:
        at, last_id = before
        query = query.where(or_(_d.created_at < at, and_(_d.created_at == at, _d.id < last_id)))
    query = query.order_by(_d.created_at.desc(), _d.id.desc()).limit(limit)
    return [_delivery(r) for r in conn.execute(query)]


def _in_state(state: str) -> list[Any]:
    if state == DELIVERED:
        return [_d.delivered_at.is_not(None)]
    if state == FAILED:
        return [_d.delivered_at.is_(None), _d.attempts >= MAX_ATTEMPTS]
    if state == PENDING:
        return [_d.delivered_at.is_(None), _d.attempts < MAX_ATTEMPTS]
    raise ValueError(f"no delivery state {state!r}")


def list_attempts(conn: Connection, tenant_id: str, delivery_id: str) -> list[Attempt]:
    """A delivery's attempts, oldest first (none for another tenant's delivery)."""
    query = (
        select(webhook_attempts)
        .join_from(webhook_attempts, webhook_deliveries, _d.id == _a.delivery_id)
        .where(_a.delivery_id == delivery_id, _d.tenant_id == tenant_id)
        .order_by(_a.attempted_at, _a.attempt)
    )
    return [
        Attempt(
            id=r.id,
            delivery_id=r.delivery_id,
            attempt=r.attempt,
            attempted_at=r.attempted_at,
            status=r.status,
            error=r.error,
            duration_ms=r.duration_ms,
        )
        for r in conn.execute(query)
    ]


def prune(conn: Connection, *, before: datetime, tenant_id: str | None = None) -> int:
    """Delete finished deliveries (delivered or given up) made before `before`, with their
    attempts; pending ones stay whatever their age. How many went."""
    finished = or_(_d.delivered_at.is_not(None), _d.attempts >= MAX_ATTEMPTS)
    query = delete(webhook_deliveries).where(_d.created_at < before, finished)
    if tenant_id is not None:
        query = query.where(_d.tenant_id == tenant_id)
    return conn.execute(query).rowcount


def pending_count(conn: Connection) -> int:
    """Deliveries still to be made (including ones waiting for a retry or a paused endpoint)."""
    query = select(func.count()).where(_d.delivered_at.is_(None), _d.attempts < MAX_ATTEMPTS)
    return conn.execute(query).scalar_one()
