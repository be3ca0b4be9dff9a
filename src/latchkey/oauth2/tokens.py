"""Issuing tokens for a completed grant: a signed ID token (OpenID Connect Core §2) and access
token (RFC 9068 JWT profile), and an opaque refresh token when `offline_access` was asked for.

A refresh token expires when it is not used for REFRESH_TOKEN_TTL (idle), and its family when
the app's absolute lifetime from the sign-in has passed, however often it rotated (OAuth 2.0
Security BCP §4.14.2: refresh tokens expire; rotation alone must not make one immortal)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from sqlalchemy import Connection

from latchkey.ids import new_id, new_token
from latchkey.models import App, Tenant, User
from latchkey.oauth2 import audiences
from latchkey.oauth2.claims import scoped
from latchkey.runtime import Runtime
from latchkey.services import apps, signing_keys
from latchkey.store import identifiers as identifier_store
from latchkey.store import refresh_tokens as refresh_store

ACCESS_TOKEN_TTL = signing_keys.SIGNED_TOKEN_LIFETIME
REFRESH_TOKEN_TTL = timedelta(days=30)
REFRESH_PREFIX = "lk_rt_"
OFFLINE = "offline_access"


@dataclass(frozen=True)
class Grant:
    """Who signed in, to which app, how and when: what every grant hands to `issue`."""

    tenant: Tenant
    app: App
    user: User
    scope: tuple[str, ...]
    amr: tuple[str, ...]
    auth_time: datetime
    issuer: str
    audience: str | None = None
    family_id: str | None = None
    # The passkey that signed in (None: a password): its deletion revokes the family.
    credential_id: str | None = None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def parse_scope(raw: str | None) -> tuple[str, ...]:
    """A missing scope means `openid`: native SDKs that send none still need an ID token."""
    given = (raw or "").split()
    return tuple(dict.fromkeys(["openid", *given]))


def identity_claims(conn: Connection, user: User) -> dict[str, Any]:
    found = identifier_store.with_verification(conn, user.id)
    claims: dict[str, Any] = {}
    # OIDC Core §5.1: *_verified says whether the owner proved the address (a mailed code or
    # link); an unverified one is only what somebody typed at sign-up.
    if "email" in found:
        claims["email"], claims["email_verified"] = found["email"]
    # A kind the directory does not use as an identifier may be a profile claim (as typed,
    # so never verified).
    if "phone_number" in found:
        claims["phone_number"], claims["phone_number_verified"] = found["phone_number"]
    elif user.profile.get("phone_number"):
        claims["phone_number"] = user.profile["phone_number"]
        claims["phone_number_verified"] = False
    username = found["username"][0] if "username" in found else user.profile.get("username")
    if username:
        claims["preferred_username"] = username
    for name in ("name", "given_name", "family_name", "nickname", "picture"):
        if user.profile.get(name):
            claims[name] = user.profile[name]
    return claims


def _sign(conn: Connection, rt: Runtime, tenant_id: str, claims: dict[str, Any], typ: str) -> str:
    key = signing_keys.signer(conn, rt, tenant_id)
    header = {"alg": key.alg or "ES256", "kid": key.kid or "", "typ": typ}
    return jwt.encode(header, claims, key)


def issue(
    conn: Connection,
    rt: Runtime,
    grant: Grant,
    *,
    id_token: bool = True,
    refresh: bool = True,
) -> dict[str, Any]:
    """Tokens for a completed grant. `id_token=False` when the caller adds its own (the code
    flow's carries the nonce); `refresh=False` when the app may not refresh."""
    now = rt.now()
    expires = now + ACCESS_TOKEN_TTL
    # RFC 9068 §3: `aud` names the API; the app's default one unless the grant resolved another.
    grant = replace(
        grant, audience=grant.audience or audiences.resolve(grant.app, rt.public_url, None)
    )
    common = {"iss": grant.issuer, "sub": grant.user.external_id, "iat": int(now.timestamp())}
    access_claims = {
        **common,
        "aud": grant.audience,
        "exp": int(expires.timestamp()),
        "client_id": grant.app.client_id,
        "scope": " ".join(grant.scope),
        "jti": new_id(),
    }
    answer: dict[str, Any] = {
        "access_token": _sign(conn, rt, grant.tenant.id, access_claims, "at+jwt"),
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
        "scope": " ".join(grant.scope),
    }
    if id_token:
        id_claims = {
            **common,
            "aud": grant.app.client_id,
            "exp": int(expires.timestamp()),
            "auth_time": int(grant.auth_time.timestamp()),
            "amr": list(grant.amr),
            # OIDC Core §5.4: the user's claims that the granted scope asks for.
            **scoped({**common, **identity_claims(conn, grant.user)}, grant.scope),
        }
        answer["id_token"] = _sign(conn, rt, grant.tenant.id, id_claims, "JWT")
    if refresh and OFFLINE in grant.scope and family_deadline(grant) > now:
        answer["refresh_token"] = _refresh_token(conn, rt, grant)
    return answer


def family_deadline(grant: Grant) -> datetime:
    """When the grant's refresh-token family ends: its sign-in plus the app's lifetime."""
    return grant.auth_time + apps.family_lifetime(grant.app)


def _refresh_token(conn: Connection, rt: Runtime, grant: Grant) -> str:
    token = REFRESH_PREFIX + new_token(32)
    now = rt.now()
    refresh_store.add(
        conn,
        token_hash=token_hash(token),
        tenant_id=grant.tenant.id,
        app_id=grant.app.id,
        user_id=grant.user.id,
        family_id=grant.family_id or new_id(),
        scope=" ".join(grant.scope),
        amr=list(grant.amr),
        auth_time=grant.auth_time,
        created_at=now,
        # Idle expiry, never past the family's absolute one.
        expires_at=min(now + REFRESH_TOKEN_TTL, family_deadline(grant)),
        credential_id=grant.credential_id,
        audience=grant.audience,
    )
    return token
