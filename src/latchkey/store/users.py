"""User rows: an app's user id mapped to a random WebAuthn user handle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from latchkey.models import User
from latchkey.store.tables import users


def from_mapping(values: Mapping[str, Any]) -> User:
    return User(**{name: values[name] for name in _FIELDS})


_FIELDS = [c.name for c in users.c]


def record(row: Any) -> User:
    return from_mapping(row._mapping)


def add(conn: Connection, user: User) -> None:
    conn.execute(
        insert(users).values(
            id=user.id,
            tenant_id=user.tenant_id,
            external_id=user.external_id,
            user_handle=user.user_handle,
            username=user.username,
            display_name=user.display_name,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
    )


def get(conn: Connection, tenant_id: str, user_id: str) -> User | None:
    row = conn.execute(
        select(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    ).first()
    return record(row) if row else None


def by_external_id(conn: Connection, tenant_id: str, external_id: str) -> User | None:
    row = conn.execute(
        select(users).where(users.c.tenant_id == tenant_id, users.c.external_id == external_id)
    ).first()
    return record(row) if row else None
