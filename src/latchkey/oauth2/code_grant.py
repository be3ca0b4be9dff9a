"""The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), on Authlib's grant.

Codes live 60 seconds, are stored as SHA-256 only and bound to the app, the redirect URI, the
PKCE challenge and the browser's SSO session. A code is consumed by one conditional UPDATE
before any token is made; a second use (replayed or raced) gets invalid_grant and revokes the
refresh tokens the first use issued (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.5)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin

from latchkey import event_kinds
from latchkey.ids import new_id
from latchkey.models import SsoSession
from latchkey.oauth2 import audiences
from latchkey.oauth2.errors import InvalidTarget
from latchkey.oauth2.server import CodeOwner, Provider
from latchkey.oauth2.tokens import Grant
from latchkey.store import authorization_codes as code_store
from latchkey.store import refresh_tokens as refresh_store
from latchkey.store import sso_sessions as session_store
from latchkey.store import users as user_store

CODE_LIFETIME = timedelta(seconds=60)


def code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode("utf-8")).digest()


class StoredCode(AuthorizationCodeMixin):
    """An unused code's row, as Authlib's grant and the OpenID extension read it."""

    def __init__(self, row: Any) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return str(self.row.redirect_uri)

    def get_scope(self) -> str:
        return str(self.row.scope)

    def get_nonce(self) -> str | None:
        return self.row.nonce or None

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return list(self.row.amr)


class CodeGrant(AuthorizationCodeGrant):
    # Public clients authenticate with nothing but PKCE (S256ChallengeRequired below).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: Provider

    def save_authorization_code(self, code: str, request: Any) -> None:
        session: SsoSession = request.user
        data = request.payload.data
        now = self.server.rt.now()
        code_store.add(
            self.server.conn,
            code_hash=code_hash(code),
            tenant_id=self.server.tenant.id,
            app_id=request.client.app.id,
            user_id=session.user_id,
            session_id=session.id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            audience=audiences.asked(data),
            amr=list(session.amr),
            auth_time=session.auth_time,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        self.server.record(
            event_kinds.OIDC_AUTHORIZED,
            user_id=session.user_id,
            client_id=request.client.app.client_id,
            scope=request.scope,
        )

    def query_authorization_code(self, code: Any, client: Any) -> StoredCode | None:
        if not isinstance(code, str) or not 0 < len(code) <= 256:
            return None
        row = code_store.get(
            self.server.conn, tenant_id=self.server.tenant.id, code_hash=code_hash(code)
        )
        if row is None or row.app_id != client.app.id:
            return None
        if row.used_at is not None:
            self._replayed(row, client.app.client_id)
            return None
        if row.expires_at <= self.server.rt.now():
            return None
        return StoredCode(row)

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        """Nothing left to do: `authenticate_user` consumed the code before tokens were made."""

    def authenticate_user(self, authorization_code: StoredCode) -> CodeOwner:
        row = authorization_code.row
        server = self.server
        # The API the authorization request named, or the token request (RFC 8707 §2.2);
        # checked against the app's audiences now, before the code is used.
        named = audiences.asked(self.request.payload.data)
        if named and row.audience and named != row.audience:
            raise InvalidTarget("the token request names another API than the authorization")
        audience = audiences.resolve(
            self.request.client.app, server.rt.public_url, named or row.audience
        )
        family = new_id()
        if not code_store.consume(
            server.conn, code_hash=row.code_hash, now=server.rt.now(), family_id=family
        ):
            # Another exchange of this code got there first: this one is a replay.
            self._replayed(row, self.request.client.app.client_id)
            raise InvalidGrantError("the authorization code was already used")
        user = user_store.get(server.conn, server.tenant.id, row.user_id)
        if user is None or user.disabled_at is not None:
            raise InvalidGrantError("the code's user no longer exists or is disabled")
        # The code lives no longer than the sign-in it came from: a passkey deleted, a user
        # disabled or signed out in between ends the session, and with it the code.
        session = session_store.get(server.conn, row.session_id) if row.session_id else None
        if session is None or session.revoked_at is not None:
            raise InvalidGrantError("the sign-in session of this code has ended")
        client_id = self.request.client.app.client_id
        server.record(event_kinds.OIDC_CODE_EXCHANGED, user_id=user.id, client_id=client_id)
        return CodeOwner(
            Grant(
                tenant=server.tenant,
                app=self.request.client.app,
                user=user,
                scope=tuple(row.scope.split()),
                amr=tuple(row.amr),
                auth_time=row.auth_time,
                issuer=server.issuer,
                family_id=family,
                credential_id=session.credential_id,
                audience=audience,
            )
        )

    def _replayed(self, row: Any, client_id: str) -> None:
        """A second use: revoke what the first issued, and say so in the event log."""
        server = self.server
        family = code_store.family_of(server.conn, row.code_hash)
        if family:
            refresh_store.revoke_family(server.conn, family, server.rt.now())
        server.record(
            event_kinds.OIDC_CODE_EXCHANGED,
            user_id=row.user_id,
            reason="code_replayed",
            client_id=client_id,
        )


class S256Challenge(CodeChallenge):
    """PKCE with S256 only (plain is refused), and required from every public client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not grant.request.client.app.confidential and not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)
