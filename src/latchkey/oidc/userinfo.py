"""The userinfo endpoint (OpenID Connect Core §5.3): the claims of an access token's user."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from latchkey.models import Tenant
from latchkey.oauth2.claims import scoped
from latchkey.oauth2.errors import InvalidToken
from latchkey.oauth2.tokens import identity_claims
from latchkey.runtime import Runtime
from latchkey.services import signing_keys
from latchkey.store import revoked_access_tokens as access_store
from latchkey.store import users as user_store


def claims(rt: Runtime, tenant: Tenant, issuer: str, access_token: str) -> dict[str, Any]:
    try:
        token = jwt.decode(access_token, signing_keys.key_set(rt, tenant.id))
        JWTClaimsRegistry(
            now=int(rt.now().timestamp()),
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise InvalidToken("the access token is not valid") from exc
    if token.header.get("typ") != "at+jwt":
        raise InvalidToken("this is not an access token")
    with rt.read() as conn:
        if access_store.is_revoked(conn, str(token.claims.get("jti") or "")):
            raise InvalidToken("the access token was revoked")
        user = user_store.by_external_id(conn, tenant.id, token.claims["sub"])
        if user is None:
            raise InvalidToken("the token's user no longer exists")
        if user.disabled_at is not None:
            # An access token outlives a disabling by up to its lifetime; userinfo is not
            # where it may keep working.
            raise InvalidToken("the token's user is disabled")
        # OIDC Core §5.4: the claims the token's scope asked for, no more.
        claims = {"sub": user.external_id, **identity_claims(conn, user)}
        return scoped(claims, str(token.claims.get("scope") or "").split())
