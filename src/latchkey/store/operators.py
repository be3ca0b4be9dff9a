"""Rows of the portal's tables: operators, their passkeys, enrolment links and sessions.
One-time secrets are consumed by one atomic UPDATE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.models import Event
from latchkey.store import events as event_store
from latchkey.store import passkey_uses
from latchkey.store.tables import (
    operator_enrolments,
    operator_passkeys,
    operators,
    portal_sessions,
)


def add_operator(conn: Connection, **values: Any) -> None:
    conn.execute(insert(operators).values(**values))


def operator(conn: Connection, operator_id: str) -> Any:
    return conn.execute(select(operators).where(operators.c.id == operator_id)).first()


def operator_by_handle(conn: Connection, user_handle: bytes) -> Any:
    query = select(operators).where(operators.c.user_handle == user_handle)
    return conn.execute(query).first()


def listed_operators(conn: Connection) -> list[Any]:
    return list(conn.execute(select(operators).order_by(operators.c.created_at)))


def add_enrolment(conn: Connection, **values: Any) -> None:
    conn.execute(insert(operator_enrolments).values(**values))


def open_enrolment(conn: Connection, secret_hash: bytes, now: datetime) -> Any:
    """The unused, unexpired enrolment link with this hash, or None (not consumed)."""
    query = select(operator_enrolments).where(
        operator_enrolments.c.secret_hash == secret_hash,
        operator_enrolments.c.used_at.is_(None),
        operator_enrolments.c.expires_at > now,
    )
    return conn.execute(query).first()


def use_enrolment(conn: Connection, enrolment_id: str, now: datetime) -> Any:
    """Mark the link used and return it; None when it was used or expired meanwhile (one
    caller wins)."""
    return conn.execute(
        update(operator_enrolments)
        .where(
            operator_enrolments.c.id == enrolment_id,
            operator_enrolments.c.used_at.is_(None),
            operator_enrolments.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(*operator_enrolments.c)
    ).first()


def add_passkey(conn: Connection, **values: Any) -> None:
    conn.execute(insert(operator_passkeys).values(**values))


def passkey(conn: Connection, passkey_id: str) -> Any:
    return conn.execute(
        select(operator_passkeys).where(operator_passkeys.c.id == passkey_id)
    ).first()


def passkey_by_credential_id(conn: Connection, credential_id: bytes) -> Any:
    query = select(operator_passkeys).where(operator_passkeys.c.credential_id == credential_id)
    return conn.execute(query).first()


def passkeys_of(conn: Connection, operator_id: str) -> list[Any]:
    query = select(operator_passkeys).where(operator_passkeys.c.operator_id == operator_id)
    return list(conn.execute(query.order_by(operator_passkeys.c.created_at)))


def record_passkey_use(
    conn: Connection,
    passkey_id: str,
    new_count: int,
    backup_state: bool,
    now: datetime,
) -> bool:
    """Store a verified use under the tenants' sign-count rule (store/passkey_uses.py): False
    when another use moved the count first (a replayed or cloned assertion racing this one)."""
    return passkey_uses.record(
        conn,
        _USES,
        row_id=passkey_id,
        new_count=new_count,
        backup_state=backup_state,
        used_at=now,
    )


_USES = passkey_uses.statements(operator_passkeys)


def mark_passkey_possible_clone(conn: Connection, passkey_id: str) -> None:
    passkey_uses.mark_possible_clone(conn, operator_passkeys, passkey_id)


def add_session(conn: Connection, **values: Any) -> None:
    conn.execute(insert(portal_sessions).values(**values))


def live_session(conn: Connection, secret_hash: bytes, now: datetime) -> Any:
    """The unrevoked, unexpired session with this hash joined to its enabled operator."""
    query = (
        select(portal_sessions.c.id.label("session_id"), operators)
        .join(operators, operators.c.id == portal_sessions.c.operator_id)
        .where(
            portal_sessions.c.secret_hash == secret_hash,
            portal_sessions.c.revoked_at.is_(None),
            portal_sessions.c.expires_at > now,
            operators.c.disabled_at.is_(None),
        )
    )
    return conn.execute(query).first()


def revoke_session(conn: Connection, secret_hash: bytes, now: datetime) -> bool:
    result = conn.execute(
        update(portal_sessions)
        .where(portal_sessions.c.secret_hash == secret_hash, portal_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def event(conn: Connection, tenant_id: str, event_id: str) -> Event | None:
    """One event of the tenant's log (another tenant's id is not found), for its detail page."""
    return event_store.one(conn, tenant_id, event_id)
