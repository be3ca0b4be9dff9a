"""Directory rows (realms), always within one tenant."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.models import Directory
from latchkey.store.tables import directories


def _record(row: Any) -> Directory:
    return Directory(**{c.name: row._mapping[c.name] for c in directories.c})


def add(conn: Connection, directory: Directory) -> None:
    conn.execute(insert(directories).values(**asdict(directory)))


def save(conn: Connection, directory: Directory) -> None:
    values = asdict(directory)
    conn.execute(update(directories).where(directories.c.id == directory.id).values(**values))


def default_for(conn: Connection, tenant_id: str) -> Directory | None:
    query = select(directories).where(
        directories.c.tenant_id == tenant_id, directories.c.is_default.is_(True)
    )
    row = conn.execute(query).first()
    return _record(row) if row else None


def by_name(conn: Connection, tenant_id: str, name: str) -> Directory | None:
    query = select(directories).where(
        directories.c.tenant_id == tenant_id, directories.c.name == name
    )
    row = conn.execute(query).first()
    return _record(row) if row else None


def for_tenant(conn: Connection, tenant_id: str) -> list[Directory]:
    query = (
        select(directories)
        .where(directories.c.tenant_id == tenant_id)
        .order_by(directories.c.created_at, directories.c.name)
    )
    return [_record(r) for r in conn.execute(query)]


def by_id(conn: Connection, tenant_id: str, directory_id: str) -> Directory | None:
    query = select(directories).where(
        directories.c.tenant_id == tenant_id, directories.c.id == directory_id
    )
    row = conn.execute(query).first()
    return _record(row) if row else None
