"""FIDO metadata payloads operators loaded (by MDS3 serial number) and the alerts a status
change raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from latchkey.store.tables import authenticator_alerts, authenticator_metadata, credentials, users


@dataclass(frozen=True)
class Loaded:
    no: int
    next_update: date
    source: str
    loaded_at: datetime


@dataclass(frozen=True)
class Alert:
    id: str
    tenant_id: str
    aaguid: str
    model: str
    status: str
    previous_status: str | None
    metadata_no: int
    rule: str
    passkeys: int
    users: int
    created_at: datetime


def latest(conn: Connection) -> Loaded | None:
    """The loaded payload with the highest serial number, without its (large) payload."""
    table = authenticator_metadata
    query = (
        select(table.c.no, table.c.next_update, table.c.source, table.c.loaded_at)
        .order_by(table.c.no.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return Loaded(row.no, row.next_update, row.source, row.loaded_at) if row else None


def payload(conn: Connection, no: int) -> str | None:
    table = authenticator_metadata
    return conn.execute(select(table.c.payload).where(table.c.no == no)).scalar_one_or_none()


def add(conn: Connection, loaded: Loaded, payload_json: str) -> None:
    conn.execute(
        insert(authenticator_metadata).values(
            no=loaded.no,
            next_update=loaded.next_update,
            source=loaded.source[:255],
            payload=payload_json,
            loaded_at=loaded.loaded_at,
        )
    )


def holders(conn: Connection, aaguid: str) -> dict[str, tuple[int, int]]:
    """Per tenant holding passkeys of this model: (passkeys, distinct users)."""
    query = (
        select(
            credentials.c.tenant_id,
            func.count(),
            func.count(func.distinct(credentials.c.user_id)),
        )
        .where(credentials.c.aaguid == aaguid)
        .group_by(credentials.c.tenant_id)
    )
    return {row[0]: (row[1], row[2]) for row in conn.execute(query)}


def affected_users(conn: Connection, tenant_id: str, aaguid: str) -> list[dict[str, Any]]:
    """The tenant's users holding a passkey of this model, with contact details for a mail."""
    query = (
        select(users.c.id, users.c.external_id, users.c.username, users.c.email)
        .join(credentials, credentials.c.user_id == users.c.id)
        .where(credentials.c.tenant_id == tenant_id, credentials.c.aaguid == aaguid)
        .distinct()
        .order_by(users.c.username)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def add_alert(conn: Connection, alert: Alert) -> None:
    conn.execute(insert(authenticator_alerts).values(**alert.__dict__))


def alerts(conn: Connection, tenant_id: str | None, *, limit: int = 50) -> list[Alert]:
    query = select(authenticator_alerts).order_by(authenticator_alerts.c.created_at.desc())
    if tenant_id is not None:
        query = query.where(authenticator_alerts.c.tenant_id == tenant_id)
    return [Alert(**row._mapping) for row in conn.execute(query.limit(limit))]
