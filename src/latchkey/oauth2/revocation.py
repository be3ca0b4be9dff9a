"""Token revocation (RFC 7009) for an authenticated client: a refresh token ends its whole
family (every rotation of that sign-in); an access token is refused by userinfo until it
expires (resource servers that verify the JWT themselves still accept it for at most its
lifetime). An unknown, expired or malformed token is answered as revoked (§2.2): the client
cannot learn anything from the answer, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import Connection

from latchkey import event_kinds
from latchkey.models import App, Tenant
from latchkey.oauth2.errors import InvalidGrant, InvalidRequest
from latchkey.oauth2.tokens import REFRESH_PREFIX, token_hash
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events, signing_keys
from latchkey.store import refresh_tokens as refresh_store
from latchkey.store import revoked_access_tokens as access_store
from latchkey.store import users as user_store


def revoke(
    rt: Runtime,
    *,
    tenant: Tenant,
    app: App,
    issuer: str,
    token: Any,
    meta: RequestMeta,
) -> None:
    if not isinstance(token, str) or not token:
        raise InvalidRequest("token is required")
    if len(token) > 8192:
        return  # no token of ours is that long
    # The hint (token_type_hint) may be wrong (§2.1); the token's own shape decides.
    if token.startswith(REFRESH_PREFIX):
        with rt.transaction() as conn:
            _refresh(conn, rt, tenant, app, token, meta)
        return
    claims = _access_claims(rt, tenant, issuer, token)
    if claims is None:
        return
    _own(app, claims.get("client_id"))
    with rt.transaction() as conn:
        access_store.add(
            conn,
            jti=str(claims["jti"]),
            tenant_id=tenant.id,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            now=rt.now(),
        )
        user = user_store.by_external_id(conn, tenant.id, str(claims.get("sub") or ""))
        user_id = user.id if user else None
        _record(conn, rt, tenant, app, meta, user_id=user_id, kind="access_token")


def _own(app: App, client_id: Any) -> None:
    """§2.1: the token must have been issued to the client asking."""
    if client_id != app.client_id:
        raise InvalidGrant("the token was issued to another client")


def _refresh(
    conn: Connection, rt: Runtime, tenant: Tenant, app: App, token: str, meta: RequestMeta
) -> None:
    row = refresh_store.get(conn, token_hash(token))
    if row is None or row.tenant_id != tenant.id or row.revoked_at is not None:
        return
    if row.app_id != app.id:
        raise InvalidGrant("the token was issued to another client")
    refresh_store.revoke_family(conn, row.family_id, rt.now())
    _record(conn, rt, tenant, app, meta, user_id=row.user_id, kind="refresh_token")


def _access_claims(rt: Runtime, tenant: Tenant, issuer: str, token: str) -> dict[str, Any] | None:
    """The claims of one of this tenant's unexpired access tokens, or None."""
    try:
        decoded = jwt.decode(token, signing_keys.key_set(rt, tenant.id))
        JWTClaimsRegistry(
            now=int(rt.now().timestamp()),
            iss={"essential": True, "value": issuer},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError):
        return None
    if decoded.header.get("typ") != "at+jwt":
        return None
    return dict(decoded.claims)


def _record(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    app: App,
    meta: RequestMeta,
    *,
    user_id: str | None,
    kind: str,
) -> None:
    events.record(
        conn,
        rt,
        tenant_id=tenant.id,
        kind=event_kinds.OIDC_TOKEN_REVOKED,
        meta=meta,
        user_id=user_id,
        detail={"client_id": app.client_id, "token_type": kind},
    )
