"""A tenant's webhook endpoints: where its events go, which kinds, and the sealed secret that
signs them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from latchkey.store.tables import webhook_endpoints
from latchkey.webhooks.models import Endpoint

_e = webhook_endpoints.c


_ENDPOINT_COLUMNS = (
    _e.id,
    _e.tenant_id,
    _e.url,
    _e.event_types,
    _e.secret_prefix,
    _e.description,
    _e.enabled,
    _e.created_at,
    _e.updated_at,
    _e.previous_secret_expires_at,
)
EDITABLE = frozenset({"url", "event_types", "description", "enabled"})


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        event_types=tuple(row.event_types),
        secret_prefix=row.secret_prefix,
        description=row.description,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
        previous_secret_expires_at=row.previous_secret_expires_at,
    )


def add_endpoint(conn: Connection, endpoint: Endpoint, *, sealed_secret: bytes) -> None:
    conn.execute(
        insert(webhook_endpoints).values(
            id=endpoint.id,
            tenant_id=endpoint.tenant_id,
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            sealed_secret=sealed_secret,
            secret_prefix=endpoint.secret_prefix,
            previous_sealed_secret=None,
            previous_secret_expires_at=None,
            description=endpoint.description,
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )
    )


def get_endpoint(conn: Connection, tenant_id: str, endpoint_id: str) -> Endpoint | None:
    query = select(*_ENDPOINT_COLUMNS).where(_e.id == endpoint_id, _e.tenant_id == tenant_id)
    row = conn.execute(query).first()
    return None if row is None else _endpoint(row)


def list_endpoints(conn: Connection, tenant_id: str) -> list[Endpoint]:
    query = (
        select(*_ENDPOINT_COLUMNS).where(_e.tenant_id == tenant_id).order_by(_e.created_at, _e.id)
    )
    return [_endpoint(r) for r in conn.execute(query)]


def update_endpoint(
    conn: Connection, tenant_id: str, endpoint_id: str, *, now: datetime, **changes: Any
) -> bool:
    """Change url, event_types, description or enabled; False if there is no such endpoint."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "event_types" in changes:
        changes["event_types"] = list(changes["event_types"])
    query = (
        update(webhook_endpoints)
        .where(_e.id == endpoint_id, _e.tenant_id == tenant_id)
        .values(updated_at=now, **changes)
    )
    return conn.execute(query).rowcount == 1


def sealed_secret(conn: Connection, tenant_id: str, endpoint_id: str) -> bytes | None:
    query = select(_e.sealed_secret).where(_e.id == endpoint_id, _e.tenant_id == tenant_id)
    found: bytes | None = conn.execute(query).scalar()
    return found


def replace_secret(
    conn: Connection,
    tenant_id: str,
    endpoint_id: str,
    *,
    sealed: bytes,
    prefix: str,
    previous: bytes | None,
    previous_expires_at: datetime | None,
    now: datetime,
) -> bool:
    query = (
        update(webhook_endpoints)
        .where(_e.id == endpoint_id, _e.tenant_id == tenant_id)
        .values(
            sealed_secret=sealed,
            secret_prefix=prefix,
            previous_sealed_secret=previous,
            previous_secret_expires_at=previous_expires_at,
            updated_at=now,
        )
    )
    return conn.execute(query).rowcount == 1


def delete_endpoint(conn: Connection, tenant_id: str, endpoint_id: str) -> bool:
    """Remove the endpoint with its deliveries and their log."""
    query = delete(webhook_endpoints).where(_e.id == endpoint_id, _e.tenant_id == tenant_id)
    return conn.execute(query).rowcount == 1


def enabled_filters(conn: Connection, tenant_id: str) -> list[tuple[str, tuple[str, ...]]]:
    """(endpoint id, event types) of the tenant's enabled endpoints."""
    query = select(_e.id, _e.event_types).where(_e.tenant_id == tenant_id, _e.enabled)
    return [(r.id, tuple(r.event_types)) for r in conn.execute(query)]
