"""A tenant's OpenID provider for one request: the authorization server (oauth2/server.py) with
the code grant and PKCE, the ID token extension and the end-session endpoint registered; and
the token endpoint's code exchange, which needs all three."""

from __future__ import annotations

from sqlalchemy import Connection

from latchkey.models import Tenant
from latchkey.oauth2.code_grant import CodeGrant, S256Challenge
from latchkey.oauth2.server import Answer, OAuthCall, Provider, readable_errors
from latchkey.oidc.end_session import EndSession
from latchkey.oidc.id_token import IdToken
from latchkey.runtime import RequestMeta, Runtime


def provider(
    rt: Runtime,
    conn: Connection,
    tenant: Tenant,
    issuer: str,
    *,
    sso_token: str | None = None,
    meta: RequestMeta | None = None,
) -> Provider:
    server = Provider(rt, conn, tenant, issuer, sso_token=sso_token, meta=meta)
    server.register_grant(CodeGrant, [S256Challenge(), IdToken()])
    server.register_endpoint(EndSession)
    return server


def exchange(
    rt: Runtime, *, tenant: Tenant, issuer: str, call: OAuthCall, meta: RequestMeta | None = None
) -> Answer:
    """The token endpoint for `grant_type=authorization_code`: Authlib authenticates the client
    (secret, or none with PKCE), checks the code, its redirect URI and verifier, and issues.
    One transaction: a refused exchange writes nothing but a replay's revocation."""
    with readable_errors(), rt.transaction() as conn:
        return provider(rt, conn, tenant, issuer, meta=meta).create_token_response(call)
