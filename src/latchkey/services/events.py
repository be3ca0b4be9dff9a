"""Writing ceremony events: every registration and sign-in, success or failure with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

from latchkey import event_kinds
from latchkey.errors import LatchkeyError
from latchkey.ids import new_ordered_id
from latchkey.models import Event
from latchkey.runtime import RequestMeta, Runtime
from latchkey.store import events as event_store


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
    """`reason` None means success; otherwise it is the failure's error code. The runtime's
    event hook (the webhooks' queue) runs in the same transaction: its deliveries are sent only
    if the event commits, never lost if it does."""
    event = Event(
        id=new_ordered_id(),
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
    if rt.on_event is not None:
        rt.on_event(conn, rt, event)


def record_failure(
    rt: Runtime,
    *,
    tenant_id: str,
    kind: str,
    meta: RequestMeta,
    reason: str,
    user_id: str | None = None,
    credential_id: str | None = None,
    detail: dict[str, Any] | None = None,
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
            detail=detail,
        )


@contextmanager
def failures_recorded(
    rt: Runtime,
    *,
    tenant_id: str,
    kind: str,
    meta: RequestMeta,
    errors: tuple[type[LatchkeyError], ...],
    detail: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Around a step whose refusals operators must see (a wrong recovery code, a failed bot
    check): such a refusal becomes a failure event, its error code the reason, written after
    the step's own transaction has rolled back."""
    try:
        yield
    except errors as refused:
        record_failure(
            rt, tenant_id=tenant_id, kind=kind, meta=meta, reason=refused.code, detail=detail
        )
        raise


def record_refusal(rt: Runtime, tenant_id: str, ip: str | None, limited: str) -> None:
    """A rate-limit refusal (Limiter.on_refused): which limit, from which address."""
    with rt.transaction() as conn:
        record(
            conn,
            rt,
            tenant_id=tenant_id,
            kind=event_kinds.RATE_LIMITED,
            meta=RequestMeta(ip=ip),
            reason="rate_limited",
            detail={"limit": limited},
        )


def recent(rt: Runtime, tenant_id: str, *, limit: int = 100) -> list[Event]:
    with rt.transaction() as conn:
        return event_store.for_tenant(conn, tenant_id, limit=limit)
