"""Sign-up identifiers, unique within their directory (the primary key enforces it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from latchkey.store.tables import user_identifiers


def add(conn: Connection, *, directory_id: str, kind: str, value: str, user_id: str) -> None:
    """Raises IntegrityError when another user of the directory holds this identifier."""
    conn.execute(
        insert(user_identifiers).values(
            directory_id=directory_id, kind=kind, value=value, user_id=user_id
        )
    )


def owner(conn: Connection, *, directory_id: str, kind: str, value: str) -> str | None:
    query = select(user_identifiers.c.user_id).where(
        user_identifiers.c.directory_id == directory_id,
        user_identifiers.c.kind == kind,
        user_identifiers.c.value == value,
    )
    return conn.execute(query).scalar()


def of_user(conn: Connection, user_id: str) -> dict[str, str]:
    query = select(user_identifiers.c.kind, user_identifiers.c.value).where(
        user_identifiers.c.user_id == user_id
    )
    return {kind: value for kind, value in conn.execute(query)}


def with_verification(conn: Connection, user_id: str) -> dict[str, tuple[str, bool]]:
    """The user's identifiers by kind: (value, whether its owner proved it)."""
    query = select(
        user_identifiers.c.kind, user_identifiers.c.value, user_identifiers.c.verified_at
    ).where(user_identifiers.c.user_id == user_id)
    return {kind: (value, when is not None) for kind, value, when in conn.execute(query)}


def mark_verified(conn: Connection, *, user_id: str, kind: str, when: datetime) -> bool:
    """Record the proof; True when the identifier was unverified until now."""
    result = conn.execute(
        update(user_identifiers)
        .where(
            user_identifiers.c.user_id == user_id,
            user_identifiers.c.kind == kind,
            user_identifiers.c.verified_at.is_(None),
        )
        .values(verified_at=when)
    )
    return result.rowcount == 1
