"""Writing ceremony events: every registration and sign-in, success or failure with its reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from latchkey.ids import new_id
from latchkey.models import Event
from latchkey.services import webhooks
from latchkey.services.runtime import RequestMeta, Runtime
from latchkey.store import events as event_store

REGISTRATION = "passkey.registration"
AUTHENTICATION = "passkey.authentication"


def record(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    kind: str,
    meta: RequestMeta,
    reason: str | None = None,
    user_id: str | None = None,
    credential_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """`reason` None means success; otherwise it is the failure's error code. The event's
    webhooks are queued in the same transaction: sent only if it commits, never lost if it does."""
    event = Event(
        id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        outcome="failure" if reason else "success",
        reason=reason,
        user_id=user_id,
        credential_id=credential_id,
        ip=meta.ip,
        user_agent=(meta.user_agent or "")[:512] or None,
        created_at=rt.now(),
        detail=detail or {},
    )
    event_store.add(conn, event)
    webhooks.enqueue_for_event(conn, rt, event)


def record_failure(
    rt: Runtime,
    *,
    tenant_id: str,
    kind: str,
    meta: RequestMeta,
    reason: str,
    user_id: str | None = None,
    credential_id: str | None = None,
) -> None:
    """A failure event in a transaction of its own, so the failed ceremony's writes stay undone."""
    with rt.transaction() as conn:
        record(
            conn,
            rt,
            tenant_id=tenant_id,
            kind=kind,
            meta=meta,
            reason=reason,
            user_id=user_id,
            credential_id=credential_id,
        )


def recent(rt: Runtime, tenant_id: str, *, limit: int = 100) -> list[Event]:
    with rt.transaction() as conn:
        return event_store.for_tenant(conn, tenant_id, limit=limit)
