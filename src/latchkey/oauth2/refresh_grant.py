"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.0 Security
BCP §4.14.2): each refresh token works once; presenting a used one revokes its whole family.
A family ends with its user (disabled, deleted) and with the passkey that signed in, and at
its absolute deadline (oauth2/tokens.py), which rotation carries along unchanged."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from latchkey.models import App, Tenant
from latchkey.oauth2 import audiences
from latchkey.oauth2.errors import InvalidGrant, InvalidScope, InvalidTarget
from latchkey.oauth2.tokens import Grant, issue, token_hash
from latchkey.runtime import Runtime
from latchkey.store import credentials as credential_store
from latchkey.store import refresh_tokens as refresh_store
from latchkey.store import users as user_store


def exchange(
    rt: Runtime,
    *,
    tenant: Tenant,
    app: App,
    issuer: str,
    refresh_token: str,
    scope: str | None,
    audience: str | None = None,
) -> dict[str, Any]:
    """New tokens for a refresh token, which is used up. A reused token's family is revoked,
    and that revocation is committed even though the request fails."""
    with rt.transaction() as conn:
        row = _usable(conn, rt, tenant, app, refresh_token)
        target = _audience(rt, app, row, audience)
        reused = row.used_at is not None or not refresh_store.mark_used(
            conn, row.token_hash, rt.now()
        )
        if reused:
            # A rotated token came back: someone holds a copy. End the whole family.
            refresh_store.revoke_family(conn, row.family_id, rt.now())
        else:
            grant = _grant(conn, row, tenant, app, issuer, scope)
            return issue(conn, rt, replace(grant, audience=target))
    raise InvalidGrant("the refresh token was already used; its family is revoked")


def _usable(conn: Connection, rt: Runtime, tenant: Tenant, app: App, token: str) -> Any:
    row = refresh_store.get(conn, token_hash(token)) if token else None
    if row is None or row.tenant_id != tenant.id or row.app_id != app.id:
        raise InvalidGrant("the refresh token is not valid")
    if row.revoked_at is not None or row.expires_at <= rt.now():
        raise InvalidGrant("the refresh token is expired or revoked")
    return row


def _audience(rt: Runtime, app: App, row: Any, asked: str | None) -> str:
    """The family keeps the audience of its sign-in, while the app still registers it."""
    kept = audiences.resolve(app, rt.public_url, row.audience)
    if asked is not None and asked != kept:
        raise InvalidTarget("a refresh keeps the audience of its sign-in")
    return kept


def _grant(
    conn: Connection, row: Any, tenant: Tenant, app: App, issuer: str, scope: str | None
) -> Grant:
    user = user_store.get(conn, tenant.id, row.user_id)
    if user is None:
        raise InvalidGrant("the user no longer exists")
    if user.disabled_at is not None:
        raise InvalidGrant("the user is disabled")
    # Deleting the passkey revokes its families; this also catches one issued in a race with
    # the deletion (the passkey grant issues after its ceremony's transaction).
    if row.credential_id is not None and row.credential_id not in {
        c.id for c in credential_store.for_user(conn, tenant.id, user.id)
    }:
        raise InvalidGrant("the passkey of this sign-in was removed")
    granted = tuple(row.scope.split())
    asked = tuple(scope.split()) if scope else granted
    if not set(asked) <= set(granted):
        raise InvalidScope("a refresh cannot widen the scope")
    return Grant(
        tenant=tenant,
        app=app,
        user=user,
        scope=asked,
        amr=tuple(row.amr),
        auth_time=row.auth_time,
        issuer=issuer,
        family_id=row.family_id,
        credential_id=row.credential_id,
    )
