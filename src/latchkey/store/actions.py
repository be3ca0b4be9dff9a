"""Tracked actions and their tokens (stored as SHA-256 hashes, consumed atomically)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.models import Action
from latchkey.store.tables import actions, tokens


def _record(row: Any) -> Action:
    return Action(**{c.name: row._mapping[c.name] for c in actions.c})


def add(conn: Connection, action: Action) -> None:
    conn.execute(insert(actions).values(**asdict(action)))


def get(conn: Connection, tenant_id: str, action_id: str) -> Action | None:
    row = conn.execute(
        select(actions).where(actions.c.tenant_id == tenant_id, actions.c.id == action_id)
    ).first()
    return _record(row) if row else None


def by_key(conn: Connection, tenant_id: str, user_id: str, name: str, key: str) -> Action | None:
    row = conn.execute(
        select(actions).where(
            actions.c.tenant_id == tenant_id,
            actions.c.user_id == user_id,
            actions.c.action == name,
            actions.c.idempotency_key == key,
        )
    ).first()
    return _record(row) if row else None


def set_state(
    conn: Connection,
    action_id: str,
    *,
    state: str,
    at: datetime,
    verification_method: str | None = None,
    credential_id: str | None = None,
) -> None:
    values: dict[str, Any] = {"state": state, "state_updated_at": at}
    if verification_method:
        values |= {"verification_method": verification_method, "credential_id": credential_id}
    conn.execute(update(actions).where(actions.c.id == action_id).values(**values))


def add_token(
    conn: Connection,
    *,
    token_hash: bytes,
    tenant_id: str,
    action_id: str,
    kind: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        insert(tokens).values(
            token_hash=token_hash,
            tenant_id=tenant_id,
            action_id=action_id,
            kind=kind,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def token_action(
    conn: Connection, *, token_hash: bytes, kind: str
) -> tuple[Action, datetime, datetime | None] | None:
    """The token's action, its expiry and its consumption time (any tenant: callers check)."""
    row = conn.execute(
        select(
            actions, tokens.c.expires_at.label("t_expires"), tokens.c.consumed_at.label("t_used")
        )
        .join(tokens, tokens.c.action_id == actions.c.id)
        .where(tokens.c.token_hash == token_hash, tokens.c.kind == kind)
    ).first()
    if row is None:
        return None
    return _record(row), row.t_expires, row.t_used


def consume_token(
    conn: Connection, *, token_hash: bytes, tenant_id: str, kind: str, now: datetime
) -> bool:
    """Mark an unexpired, unused token of this tenant used; True for exactly one caller."""
    result = conn.execute(
        update(tokens)
        .where(
            tokens.c.token_hash == token_hash,
            tokens.c.tenant_id == tenant_id,
            tokens.c.kind == kind,
            tokens.c.consumed_at.is_(None),
            tokens.c.expires_at > now,
        )
        .values(consumed_at=now)
    )
    return result.rowcount == 1
