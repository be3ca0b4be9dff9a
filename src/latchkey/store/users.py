"""User rows: an app's user id mapped to a random WebAuthn user handle."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from latchkey.models import User
from latchkey.store import driver
from latchkey.store.tables import user_identifiers, users


def from_mapping(values: Mapping[str, Any]) -> User:
    return User(**{name: values[name] for name in _FIELDS})


_FIELDS = [c.name for c in users.c]


def record(row: Any) -> User:
    return from_mapping(row._mapping)


def add(conn: Connection, user: User) -> None:
    conn.execute(insert(users).values(**asdict(user)))


def update_profile(conn: Connection, user_id: str, changes: Mapping[str, Any]) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(**changes))


def remove(conn: Connection, tenant_id: str, user_id: str) -> bool:
    """Delete the user; their passkeys, actions, tokens and challenges go with them (cascade)."""
    result = conn.execute(
        delete(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    )
    return result.rowcount == 1


_GET = select(users).where(
    users.c.tenant_id == bindparam("b_tenant"), users.c.id == bindparam("b_id")
)


def get(conn: Connection, tenant_id: str, user_id: str) -> User | None:
    row = conn.execute(_GET, {"b_tenant": tenant_id, "b_id": user_id}).first()
    return record(row) if row else None


def current(conn: Connection, tenant_id: str, user_id: str) -> User | None:
    """As `get`, on the driver's cursor (store/driver.py): each sign-in's write reads its user."""
    row = driver.first(conn, _GET, {"b_tenant": tenant_id, "b_id": user_id})
    return None if row is None else User(*row)


def by_external_id(conn: Connection, tenant_id: str, external_id: str) -> User | None:
    row = conn.execute(
        select(users).where(users.c.tenant_id == tenant_id, users.c.external_id == external_id)
    ).first()
    return record(row) if row else None


def by_ids(conn: Connection, tenant_id: str, user_ids: Collection[str]) -> dict[str, User]:
    """The tenant's users among these ids (one query), by id; removed users are left out."""
    if not user_ids:
        return {}
    query = select(users).where(users.c.tenant_id == tenant_id, users.c.id.in_(set(user_ids)))
    return {user.id: user for user in map(record, conn.execute(query))}


def lock(conn: Connection, tenant_id: str, user_id: str) -> bool:
    """Hold the user's row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite has one
    writer at a time anyway), so rules over all their passkeys are checked race-free."""
    query = (
        select(users.c.id)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .with_for_update()
    )
    return conn.execute(query).first() is not None


def search(conn: Connection, tenant_id: str, needle: str | None, *, limit: int) -> list[User]:
    """The tenant's users whose id, app user id, e-mail, username, phone number or sign-up
    identifier is `needle` (case-insensitive where those are); no needle: the newest users."""
    query = select(users).where(users.c.tenant_id == tenant_id)
    if needle:
        lowered = needle.lower()
        by_identifier = select(user_identifiers.c.user_id).where(
            user_identifiers.c.value.in_([lowered, needle])
        )
        query = query.where(
            or_(
                users.c.id == needle,
                users.c.external_id == needle,
                func.lower(users.c.email) == lowered,
                func.lower(users.c.username) == lowered,
                users.c.phone_number == needle,
                users.c.id.in_(by_identifier),
            )
        )
    query = query.order_by(users.c.created_at.desc(), users.c.id.desc()).limit(limit)
    return [record(r) for r in conn.execute(query)]


def query(
    conn: Connection,
    tenant_id: str,
    *,
    username: str | None,
    email: str | None,
    phone_number: str | None,
    after: str | None,
    limit: int,
) -> list[User]:
    """The tenant's users matching every filter given (e-mail and username case-insensitive),
    in app user id order, from after `after`."""
    query = select(users).where(users.c.tenant_id == tenant_id)
    if username is not None:
        query = query.where(func.lower(users.c.username) == username.lower())
    if email is not None:
        query = query.where(func.lower(users.c.email) == email.lower())
    if phone_number is not None:
        query = query.where(users.c.phone_number == phone_number)
    if after is not None:
        query = query.where(users.c.external_id > after)
    query = query.order_by(users.c.external_id).limit(limit)
    return [record(r) for r in conn.execute(query)]


def set_disabled(
    conn: Connection, tenant_id: str, user_id: str, *, disabled_at: datetime | None, now: datetime
) -> bool:
    result = conn.execute(
        update(users)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .values(disabled_at=disabled_at, updated_at=now)
    )
    return result.rowcount == 1
