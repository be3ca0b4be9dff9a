"""App (OAuth client) rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from latchkey.models import App
from latchkey.store.tables import apps

_LISTS = ("redirect_uris", "grant_types", "android_fingerprints", "audiences")


def _record(row: Any) -> App:
    values = {c.name: row._mapping[c.name] for c in apps.c}
    for name in _LISTS:
        values[name] = tuple(values[name])
    return App(**values)


def _values(app: App) -> dict[str, Any]:
    values = asdict(app)
    for name in _LISTS:
        values[name] = list(values[name])
    return values


def add(conn: Connection, app: App) -> None:
    conn.execute(insert(apps).values(**_values(app)))


def save(conn: Connection, app: App) -> None:
    conn.execute(update(apps).where(apps.c.id == app.id).values(**_values(app)))


def by_client_id(conn: Connection, client_id: str) -> App | None:
    row = conn.execute(select(apps).where(apps.c.client_id == client_id)).first()
    return _record(row) if row else None


def for_tenant(conn: Connection, tenant_id: str) -> list[App]:
    query = select(apps).where(apps.c.tenant_id == tenant_id).order_by(apps.c.created_at)
    return [_record(r) for r in conn.execute(query)]


def remove(conn: Connection, app_id: str) -> bool:
    return conn.execute(delete(apps).where(apps.c.id == app_id)).rowcount == 1
