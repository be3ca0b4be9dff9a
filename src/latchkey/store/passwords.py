"""Password hash rows (argon2id), one per user, apart from the user rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from latchkey.store.tables import passwords, users


def hash_of(conn: Connection, user_id: str) -> str | None:
    """The user's password hash; None for a disabled user, whose password no longer matches."""
    query = (
        select(passwords.c.hash)
        .join(users, users.c.id == passwords.c.user_id)
        .where(passwords.c.user_id == user_id, users.c.disabled_at.is_(None))
    )
    found = conn.execute(query).first()
    return found[0] if found else None


def put(conn: Connection, user_id: str, hashed: str, now: datetime) -> None:
    conn.execute(delete(passwords).where(passwords.c.user_id == user_id))
    conn.execute(insert(passwords).values(user_id=user_id, hash=hashed, updated_at=now))


def remove(conn: Connection, user_id: str) -> bool:
    return conn.execute(delete(passwords).where(passwords.c.user_id == user_id)).rowcount == 1
