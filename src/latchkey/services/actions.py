"""Tracked actions and their tokens: the backend asks, the browser proves, the backend validates.

An action token (from track) lets the browser register or sign in for that user and action.
A result token (from a verified passkey) is validated by the app backend exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from latchkey.errors import (
    ActionClosed,
    Conflict,
    ExpiredToken,
    InvalidRequest,
    InvalidToken,
    NotFound,
)
from latchkey.ids import new_ordered_id, new_token
from latchkey.models import Action, Credential, Tenant, User
from latchkey.runtime import Runtime
from latchkey.services import sealing, users
from latchkey.store import actions as action_store
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store

ACTION_TOKEN = "action"
RESULT_TOKEN = "result"
TOKEN_TTL = timedelta(minutes=10)
PASSKEY = "PASSKEY"
ADD_AUTHENTICATORS = "add:authenticators"
# The one state in which an action waits for its challenge; its token starts a challenge only
# then. Every other state is final for the token (a backend's ALLOW, BLOCK or review, a
# success, a failure).
PENDING = "CHALLENGE_REQUIRED"
SUCCEEDED = "CHALLENGE_SUCCEEDED"
STATES = (
    PENDING,
    SUCCEEDED,
    "CHALLENGE_FAILED",
    "ALLOW",
    "BLOCK",
    "REVIEW_REQUIRED",
    "REVIEW_SUCCEEDED",
    "REVIEW_FAILED",
)
_NAME = re.compile(r"^[A-Za-z0-9_:.-]{1,64}$")
# A caller's idempotency key: the vendor SDKs send UUIDs; any short printable key will do.
_KEY = re.compile(r"^[A-Za-z0-9_:.-]{1,64}$")
TOKEN_PREFIX = "lk_tok_"
# Whether a tenant's backend tracks an action name, cached for anonymous challenges
# (services/action_names.py); a track forgets its name here at once.
TRACKED_NAMES_CACHE = "tracked_action_names"
TRACKED_NAMES_TTL = 3.0


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


def _idempotent_token(rt: Runtime, action: Action) -> str:
    """The action token of an action tracked with the caller's idempotency key: the same for
    every track with that key (only its hash is stored), unguessable without the master key."""
    key = sealing.derive(rt.master_key, "latchkey idempotent action tokens")
    mac = hmac.new(key, f"{action.tenant_id}:{action.id}".encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + urlsafe_b64encode(mac).decode().rstrip("=")


def issue_token(
    conn: Connection,
    rt: Runtime,
    action: Action,
    kind: str,
    *,
    token: str | None = None,
    now: datetime | None = None,
) -> str:
    """`now`: when the token is made (the clock's time when not given)."""
    token = token or TOKEN_PREFIX + new_token(32)
    now = now if now is not None else rt.now()
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
    idempotency_key: str | None = None,
) -> Action:
    now = rt.now()
    action = Action(
        id=new_ordered_id(),
        tenant_id=tenant.id,
        user_id=user.id,
        action=name,
        idempotency_key=idempotency_key or new_ordered_id(),
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


def check_redirect_url(url: Any) -> str:
    """Where the hosted page sends the browser with the result token: an absolute https URL
    (http only on this machine), without user information or a fragment."""
    bad = InvalidRequest(
        "redirectUrl must be an absolute https:// URL (http://localhost for development)",
        code="invalid_redirect_url",
    )
    if not isinstance(url, str) or len(url) > 2048 or any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
    except ValueError:
        raise bad from None
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise bad
    if not parts.hostname or parts.username is not None or parts.fragment:
        raise bad
    return url


def check_idempotency_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidRequest(
            "idempotencyKey must be 1 to 64 letters, digits, or _ : . -",
            code="invalid_idempotency_key",
        )
    return key


def track(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, name: str, attributes: dict[str, Any]
) -> Tracked:
    """A new action waiting for its challenge, and the token the browser proves it with. With
    the caller's `idempotencyKey`, tracking again answers the same action and token."""
    check_action_name(name)
    scope = attributes.get("scope") or ""
    if not isinstance(scope, str) or len(scope) > 255:
        raise InvalidRequest("scope must be a space-separated string")
    key = attributes.get("idempotencyKey")
    if key is not None:
        check_idempotency_key(key)
    if attributes.get("redirectUrl") is not None:
        check_redirect_url(attributes["redirectUrl"])
    stored = {k: v for k, v in attributes.items() if k != "idempotencyKey"}
    with rt.transaction() as conn:
        user = users.ensure(conn, rt, tenant, external_user_id, attributes)
        enrolled = bool(credential_store.for_user(conn, tenant.id, user.id))
        action_store.add_tracked_name(conn, tenant.id, name, rt.now())
        if key is not None:
            again = _tracked_again(conn, rt, tenant, user, name, key, enrolled)
            if again is not None:
                return again
        # Enrolled users are challenged; others are enrolled: both need the browser next.
        action = new_action(
            conn,
            rt,
            tenant,
            user,
            name,
            state=PENDING,
            scope=scope,
            attributes=stored,
            idempotency_key=key,
        )
        given = _idempotent_token(rt, action) if key is not None else None
        token = issue_token(conn, rt, action, ACTION_TOKEN, token=given)
    rt.cache(TRACKED_NAMES_CACHE, TRACKED_NAMES_TTL).forget((tenant.id, name))
    return Tracked(action, user, token, enrolled)


def _tracked_again(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    user: User,
    name: str,
    key: str,
    enrolled: bool,
) -> Tracked | None:
    """The action an earlier track with this idempotency key made, or None if there is none."""
    found = action_store.by_idempotency_key(conn, tenant.id, key)
    if found is None:
        return None
    if found.user_id != user.id or found.action != name or found.anonymous:
        raise Conflict(
            "this idempotencyKey was used for another user or action",
            code="idempotency_key_conflict",
        )
    return Tracked(found, user, _idempotent_token(rt, found), enrolled)


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


def _closed(state: str) -> ActionClosed:
    return ActionClosed(
        f"this action is {state}: its token no longer starts a challenge; track the action again"
    )


def require_pending(action: Action) -> Action:
    """An action token starts a challenge only while its action waits for one."""
    if action.state != PENDING:
        raise _closed(action.state)
    return action


def require_live(action: Action) -> Action:
    """An action token reads its user's passkeys while its action waits for a challenge or has
    just passed it; never once the backend set a state of its own (BLOCK, ALLOW, a review)."""
    if action.state not in (PENDING, SUCCEEDED):
        raise _closed(action.state)
    return action


def succeed(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    *,
    action: Action,
    user: User,
    credential: Credential,
) -> tuple[Action, str]:
    """Record a passkey success on the tracked action and return the result token the app
    backend will validate. An action that is no longer waiting for its challenge (the backend
    blocked it meanwhile, or another challenge of the same token succeeded first) is refused,
    and the ceremony with it."""
    now = rt.now()
    done = action_store.set_verified(
        conn,
        tenant.id,
        action.id,
        from_state=PENDING,
        state=SUCCEEDED,
        at=now,
        verification_method=PASSKEY,
        credential_id=credential.id,
    )
    if done is None:
        current = action_store.get(conn, tenant.id, action.id)
        raise _closed(current.state if current else "gone")
    # The result token is made at the moment of the success it carries.
    return done, issue_token(conn, rt, done, RESULT_TOKEN, now=now)


def succeed_anonymous(
    conn: Connection, rt: Runtime, tenant: Tenant, *, user: User, credential: Credential, name: str
) -> tuple[Action, str] | None:
    """A sign-in without the backend's action token: a new action, written once in its final
    state, and its result token; None (nothing written) when the tenant's backend tracks the
    name (services/action_names.py), which the action's own INSERT checks."""
    now = rt.now()
    done = Action(
        id=new_ordered_id(),
        tenant_id=tenant.id,
        user_id=user.id,
        action=name,
        idempotency_key=new_ordered_id(),
        state=SUCCEEDED,
        scope="",
        verification_method=PASSKEY,
        credential_id=credential.id,
        attributes={},
        created_at=now,
        state_updated_at=now,
        anonymous=True,
    )
    if not action_store.add_unless_tracked(conn, done):
        return None
    return done, issue_token(conn, rt, done, RESULT_TOKEN, now=now)


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
    with rt.transaction() as conn:
        return validate_in(conn, rt, tenant, token, user_id=user_id, action_name=action_name)


def validate_in(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    token: str,
    *,
    user_id: str | None = None,
    action_name: str | None = None,
) -> Validation:
    """`validate` in the caller's transaction (the group writer's)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return Validation(False)
    digest = _hash(token)
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
    # The action's state now, as the backend may have set it after the success (a BLOCK stays).
    return Validation(used and action.state == SUCCEEDED, action, user)


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


def token_owner(rt: Runtime, tenant: Tenant, token: str) -> str | None:
    """The app user id an unexpired action or result token of this tenant was issued for."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with rt.read() as conn:
        for kind in (ACTION_TOKEN, RESULT_TOKEN):
            found = action_store.token_action(conn, token_hash=_hash(token), kind=kind)
            if found is not None and found[0].tenant_id == tenant.id and found[1] > rt.now():
                user = user_store.get(conn, tenant.id, found[0].user_id)
                return user.external_id if user else None
    return None


MAX_ACTIONS = 100


def of_user(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str,
    since: datetime | None = None,
    names: list[str] | None = None,
    state: str | None = None,
    limit: int = MAX_ACTIONS,
) -> list[Action]:
    """The user's newest actions (at most 100), narrowed by date, names and state."""
    for name in names or []:
        check_action_name(name)
    if state is not None and state not in STATES:
        raise InvalidRequest(f"state must be one of {', '.join(STATES)}")
    if not 1 <= limit <= MAX_ACTIONS:
        raise InvalidRequest(f"limit must be from 1 to {MAX_ACTIONS}")
    with rt.read() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        if user is None:
            return []
        return action_store.of_user(
            conn, tenant.id, user.id, since=since, names=names or [], state=state, limit=limit
        )


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
