"""The code flow's ID token (OpenID Connect Core §3.1.3.6), made by Authlib's OpenID extension:
the code's nonce, auth_time and amr, at_hash, and the user's claims that the scope asks for;
signed with the tenant's current key and dated by Latchkey's clock."""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import OpenIDCode, UserInfo

from latchkey.oauth2.client_model import OAuthClient
from latchkey.oauth2.server import CodeOwner, Provider
from latchkey.oauth2.tokens import ACCESS_TOKEN_TTL, identity_claims
from latchkey.services import signing_keys


class IdToken(OpenIDCode):
    server: Provider

    _signing_key: signing_keys.SigningKey | None = None

    def __call__(self, grant: Any) -> None:
        self.server = grant.server
        super().__call__(grant)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # The nonce binds the ID token to the client's session; checking it is the client's
        # part (OIDC Core §15.5.2). Latchkey only carries it into the code and the token.
        return False

    def _key(self) -> signing_keys.SigningKey:
        # Asked for three times per token (alg, header, key): read and unsealed once.
        if self._signing_key is None:
            server = self.server
            self._signing_key = signing_keys.signer(server.conn, server.rt, server.tenant.id)
        return self._signing_key

    def resolve_client_private_key(self, client: OAuthClient) -> Any:
        return self._key()

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return self._key().alg or "ES256"

    def get_encode_header(self, client: OAuthClient) -> dict[str, Any]:
        key = self._key()
        return {"alg": key.alg or "ES256", "kid": key.kid or "", "typ": "JWT"}

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        now = int(self.server.rt.now().timestamp())
        return {
            "iss": self.server.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + int(ACCESS_TOKEN_TTL.total_seconds()),
        }

    def generate_user_info(self, user: CodeOwner, scope: str) -> UserInfo:
        person = user.grant.user
        claims = {"sub": person.external_id, **identity_claims(self.server.conn, person)}
        return UserInfo(claims).filter(scope)
