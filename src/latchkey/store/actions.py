"""Tracked actions and their tokens (stored as SHA-256 hashes, consumed atomically)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from latchkey.models import Action, User
from latchkey.store import driver
from latchkey.store.tables import actions, tokens, tracked_action_names, users

_COLUMNS = tuple(c.name for c in actions.c)


# Rows become models by position (no dict of names per row): the models' fields are in the
# tables' column order, which this checks once.
for _table, _model in ((actions, Action), (users, User)):
    if [c.name for c in _table.c] != [f.name for f in fields(_model)]:
        raise TypeError(f"{_table.name}'s columns are not {_model.__name__}'s fields, in order")
_N = len(_COLUMNS)


def _record(row: Any) -> Action:
    # The first _N values of a row that starts with the action's columns.
    return Action(*row[:_N])


# Hot statements, built once (see store/challenges.py).
_INSERT = insert(actions)
_INSERT_TOKEN = insert(tokens)
# INSERT ... SELECT <the values> WHERE NOT EXISTS (<the name tracked>): each value a typed
# parameter (its column's processing applies), tenant_id and action named twice.
_VALUES = {c.name: bindparam(c.name, type_=c.type) for c in actions.c}
_INSERT_UNLESS_TRACKED = insert(actions).from_select(
    list(_VALUES),
    select(*_VALUES.values()).where(
        ~exists().where(
            tracked_action_names.c.tenant_id == _VALUES["tenant_id"],
            tracked_action_names.c.action == _VALUES["action"],
        )
    ),
)
_GET = select(actions).where(
    actions.c.tenant_id == bindparam("b_tenant"), actions.c.id == bindparam("b_id")
)
_TOKEN_ACTION = (
    select(actions, tokens.c.expires_at.label("t_expires"), tokens.c.consumed_at.label("t_used"))
    .join(tokens, tokens.c.action_id == actions.c.id)
    .where(tokens.c.token_hash == bindparam("b_hash"), tokens.c.kind == bindparam("b_kind"))
)
_SET_STATE = (
    update(actions)
    .where(actions.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), state_updated_at=bindparam("b_at"))
)
_SET_STATE_VERIFIED = _SET_STATE.values(
    verification_method=bindparam("b_method"), credential_id=bindparam("b_credential")
)
_SET_STATE_VERIFIED_RETURNING = (
    update(actions)
    .where(
        actions.c.id == bindparam("b_id"),
        actions.c.tenant_id == bindparam("b_tenant"),
        # Only an action still waiting for its challenge: a backend's BLOCK (or any state it set,
        # or an earlier success) is never overwritten by a later success.
        actions.c.state == bindparam("b_from"),
    )
    .values(
        state=bindparam("b_state"),
        state_updated_at=bindparam("b_at"),
        verification_method=bindparam("b_method"),
        credential_id=bindparam("b_credential"),
    )
    .returning(*actions.c)
)
_TRACKED_NAME = select(tracked_action_names.c.action).where(
    tracked_action_names.c.tenant_id == bindparam("b_tenant"),
    tracked_action_names.c.action == bindparam("b_action"),
)
_TOKEN_ACTION_USER = (
    select(actions, *(c.label(f"u_{c.name}") for c in users.c))
    .select_from(tokens)
    .join(actions, tokens.c.action_id == actions.c.id)
    .join(users, users.c.id == actions.c.user_id)
    .where(tokens.c.token_hash == bindparam("b_hash"), tokens.c.kind == bindparam("b_kind"))
)
_CONSUME_TOKEN = (
    update(tokens)
    .where(
        tokens.c.token_hash == bindparam("b_hash"),
        tokens.c.tenant_id == bindparam("b_tenant"),
        tokens.c.kind == bindparam("b_kind"),
        tokens.c.consumed_at.is_(None),
        tokens.c.expires_at > bindparam("b_now"),
    )
    .values(consumed_at=bindparam("b_now"))
)


def add(conn: Connection, action: Action) -> None:
    # The dataclass's own fields (a shallow copy: the JSON column is serialized, not kept).
    driver.execute(conn, _INSERT, dict(action.__dict__))


def add_unless_tracked(conn: Connection, action: Action) -> bool:
    """Add the action unless its tenant tracks its name (tracked_action_names), in one
    statement; False (nothing written) when it does."""
    return bool(driver.execute(conn, _INSERT_UNLESS_TRACKED, dict(action.__dict__)) == 1)


def get(conn: Connection, tenant_id: str, action_id: str) -> Action | None:
    row = conn.execute(_GET, {"b_tenant": tenant_id, "b_id": action_id}).first()
    return _record(row) if row else None


def by_idempotency_key(conn: Connection, tenant_id: str, key: str) -> Action | None:
    row = conn.execute(
        select(actions).where(actions.c.tenant_id == tenant_id, actions.c.idempotency_key == key)
    ).first()
    return _record(row) if row else None


def of_user(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    *,
    since: datetime | None,
    names: list[str],
    state: str | None,
    limit: int,
) -> list[Action]:
    """A user's actions, newest first, narrowed by the filters given."""
    query = select(actions).where(actions.c.tenant_id == tenant_id, actions.c.user_id == user_id)
    if since is not None:
        query = query.where(actions.c.created_at >= since)
    if names:
        query = query.where(actions.c.action.in_(names))
    if state is not None:
        query = query.where(actions.c.state == state)
    query = query.order_by(actions.c.created_at.desc(), actions.c.id).limit(limit)
    return [_record(row) for row in conn.execute(query)]


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
    params: dict[str, Any] = {"b_id": action_id, "b_state": state, "b_at": at}
    if verification_method:
        params |= {"b_method": verification_method, "b_credential": credential_id}
        conn.execute(_SET_STATE_VERIFIED, params)
    else:
        conn.execute(_SET_STATE, params)


def set_verified(
    conn: Connection,
    tenant_id: str,
    action_id: str,
    *,
    from_state: str,
    state: str,
    at: datetime,
    verification_method: str,
    credential_id: str,
) -> Action | None:
    """`set_state` with the verification method, returning the updated action (one statement);
    None when the action is no longer in `from_state`."""
    params = {
        "b_id": action_id,
        "b_tenant": tenant_id,
        "b_from": from_state,
        "b_state": state,
        "b_at": at,
        "b_method": verification_method,
        "b_credential": credential_id,
    }
    row = conn.execute(_SET_STATE_VERIFIED_RETURNING, params).first()
    return _record(row) if row else None


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
    driver.execute(
        conn,
        _INSERT_TOKEN,
        {
            "token_hash": token_hash,
            "tenant_id": tenant_id,
            "action_id": action_id,
            "kind": kind,
            "created_at": created_at,
            "expires_at": expires_at,
        },
    )


def token_action(
    conn: Connection, *, token_hash: bytes, kind: str
) -> tuple[Action, datetime, datetime | None] | None:
    """The token's action, its expiry and its consumption time (any tenant: callers check)."""
    row = conn.execute(_TOKEN_ACTION, {"b_hash": token_hash, "b_kind": kind}).first()
    if row is None:
        return None
    return _record(row), row.t_expires, row.t_used


def token_action_user(
    conn: Connection, *, token_hash: bytes, kind: str
) -> tuple[Action, User] | None:
    """The token's action and that action's user, in one statement (any tenant: callers check)."""
    row = driver.first(conn, _TOKEN_ACTION_USER, {"b_hash": token_hash, "b_kind": kind})
    if row is None:
        return None
    return _record(row), User(*row[_N:])


def consume_token(
    conn: Connection, *, token_hash: bytes, tenant_id: str, kind: str, now: datetime
) -> bool:
    """Mark an unexpired, unused token of this tenant used; True for exactly one caller."""
    params = {"b_hash": token_hash, "b_tenant": tenant_id, "b_kind": kind, "b_now": now}
    return driver.execute(conn, _CONSUME_TOKEN, params) == 1


def is_tracked_name(conn: Connection, tenant_id: str, name: str) -> bool:
    # On the driver's cursor: every anonymous sign-in's verify asks, in the writer's group.
    return driver.first(conn, _TRACKED_NAME, {"b_tenant": tenant_id, "b_action": name}) is not None


def add_tracked_name(conn: Connection, tenant_id: str, name: str, at: datetime) -> None:
    """Record that the tenant's backend tracks this action name (once; a race is harmless)."""
    if is_tracked_name(conn, tenant_id, name):
        return
    try:
        with conn.begin_nested():
            conn.execute(
                insert(tracked_action_names).values(tenant_id=tenant_id, action=name, created_at=at)
            )
    except IntegrityError:
        pass  # another track of the same name got there first
