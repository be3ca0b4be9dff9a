"""Sign-up identifiers, unique within their directory (the primary key enforces it)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

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
