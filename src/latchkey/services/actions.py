"""Tracked actions and their tokens: the backend asks, the browser proves, the backend validates.

An action token (from track) lets the browser register or sign in for that user and action.
A result token (from a verified passkey) is validated by the app backend exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import ExpiredToken, InvalidRequest, InvalidToken, NotFound
from latchkey.ids import new_id, new_token
from latchkey.models import Action, Credential, Tenant, User
from latchkey.services import users
from latchkey.services.runtime import Runtime
from latchkey.store import actions as action_store
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store

ACTION_TOKEN = "action"
RESULT_TOKEN = "result"
TOKEN_TTL = timedelta(minutes=10)
PASSKEY = "PASSKEY"
ADD_AUTHENTICATORS = "add:authenticators"
STATES = (
    "CHALLENGE_REQUIRED",
    "CHALLENGE_SUCCEEDED",
    "CHALLENGE_FAILED",
    "ALLOW",
    "BLOCK",
    "REVIEW_REQUIRED",
)
_NAME = re.compile(r"^[A-Za-z0-9_:.-]{1,64}$")
TOKEN_PREFIX = "lk_tok_"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def check_action_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidRequest("the action must be 1 to 64 letters, digits, or _ : . -")
    return name


@dataclass(frozen=True)
class Tracked:
    action: Action
    user: User
    token: str
    enrolled: bool


def issue_token(conn: Connection, rt: Runtime, action: Action, kind: str) -> str:
    token = TOKEN_PREFIX + new_token(32)
    now = rt.now()
    action_store.add_token(
        conn,
        token_hash=_hash(token),
        tenant_id=action.tenant_id,
        action_id=action.id,
        kind=kind,
        created_at=now,
        expires_at=now + TOKEN_TTL,
    )
    return token


def new_action(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    user: User,
    name: str,
    *,
    state: str,
    scope: str = "",
    attributes: dict[str, Any] | None = None,
) -> Action:
    now = rt.now()
    action = Action(
        id=new_id(),
        tenant_id=tenant.id,
        user_id=user.id,
        action=name,
        idempotency_key=new_id(),
        state=state,
        scope=scope,
        verification_method=None,
        credential_id=None,
        attributes=attributes or {},
        created_at=now,
        state_updated_at=now,
    )
    action_store.add(conn, action)
    return action


def track(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, name: str, attributes: dict[str, Any]
) -> Tracked:
    check_action_name(name)
    scope = attributes.get("scope") or ""
    if not isinstance(scope, str) or len(scope) > 255:
        raise InvalidRequest("scope must be a space-separated string")
    with rt.transaction() as conn:
        user = users.ensure(conn, rt, tenant, external_user_id, attributes)
        enrolled = bool(credential_store.for_user(conn, tenant.id, user.id))
        # Enrolled users are challenged; others are enrolled: both need the browser next.
        action = new_action(
            conn,
            rt,
            tenant,
            user,
            name,
            state="CHALLENGE_REQUIRED",
            scope=scope,
            attributes=attributes,
        )
        token = issue_token(conn, rt, action, ACTION_TOKEN)
    return Tracked(action, user, token, enrolled)


def authorize(rt: Runtime, token: str) -> tuple[Action, User]:
    """The action (and its user) an action token from the browser stands for."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise InvalidToken("the token is not valid")
    with rt.read() as conn:
        found = action_store.token_action(conn, token_hash=_hash(token), kind=ACTION_TOKEN)
        user = user_store.get(conn, found[0].tenant_id, found[0].user_id) if found else None
    if found is None or user is None:
        raise InvalidToken("the token is not valid")
    action, expires_at, _used = found
    if expires_at <= rt.now():
        raise ExpiredToken("the token has expired; track the action again")
    return action, user


def succeed(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    *,
    action: Action | None,
    user: User,
    credential: Credential,
    name: str,
) -> tuple[Action, str]:
    """Record a passkey success on the action (a new one for sign-in without a token) and
    return the result token the app backend will validate."""
    now = rt.now()
    if action is None:
        # A new action is written once, already in its final state.
        done = Action(
            id=new_id(),
            tenant_id=tenant.id,
            user_id=user.id,
            action=name,
            idempotency_key=new_id(),
            state="CHALLENGE_SUCCEEDED",
            scope="",
            verification_method=PASSKEY,
            credential_id=credential.id,
            attributes={},
            created_at=now,
            state_updated_at=now,
        )
        action_store.add(conn, done)
    else:
        updated = action_store.set_verified(
            conn,
            tenant.id,
            action.id,
            state="CHALLENGE_SUCCEEDED",
            at=now,
            verification_method=PASSKEY,
            credential_id=credential.id,
        )
        assert updated is not None
        done = updated
    return done, issue_token(conn, rt, done, RESULT_TOKEN)


@dataclass(frozen=True)
class Validation:
    is_valid: bool
    action: Action | None = None
    user: User | None = None


def validate(
    rt: Runtime,
    tenant: Tenant,
    token: str,
    *,
    user_id: str | None = None,
    action_name: str | None = None,
) -> Validation:
    """Valid exactly once; expired, replayed, unknown or other-tenant tokens are not valid."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return Validation(False)
    digest = _hash(token)
    with rt.transaction() as conn:
        found = action_store.token_action_user(conn, token_hash=digest, kind=RESULT_TOKEN)
        if found is None:
            return Validation(False)
        action, user = found
        if action.tenant_id != tenant.id or user.tenant_id != tenant.id:
            return Validation(False)
        if user_id is not None and user.external_id != user_id:
            return Validation(False, action, user)
        if action_name is not None and action.action != action_name:
            return Validation(False, action, user)
        used = action_store.consume_token(
            conn, token_hash=digest, tenant_id=tenant.id, kind=RESULT_TOKEN, now=rt.now()
        )
    return Validation(used and action.state == "CHALLENGE_SUCCEEDED", action, user)


def find(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, name: str, idempotency_key: str
) -> tuple[Action, User]:
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        action = (
            action_store.by_key(conn, tenant.id, user.id, name, idempotency_key) if user else None
        )
    if action is None or user is None:
        raise NotFound("no such action")
    return action, user


def set_state(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str,
    name: str,
    idempotency_key: str,
    state: str,
) -> tuple[Action, User]:
    if state not in STATES:
        raise InvalidRequest(f"state must be one of {', '.join(STATES)}")
    action, user = find(
        rt, tenant, external_user_id=external_user_id, name=name, idempotency_key=idempotency_key
    )
    with rt.transaction() as conn:
        action_store.set_state(conn, action.id, state=state, at=rt.now())
        changed = action_store.get(conn, tenant.id, action.id)
    assert changed is not None
    return changed, user
