"""Native apps in tests: an Android app with the passkey grant, the calls Auth0.Android and
Auth0.swift make against /t/{tenant}/, and an ID token checked as an app's backend would."""

from __future__ import annotations

import hashlib
from typing import Any

import jwt as pyjwt
from litestar.testing import TestClient

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps
from latchkey.testing.authenticator import SoftAuthenticator

FINGERPRINT = ":".join(f"{b:02X}" for b in hashlib.sha256(b"release key").digest())
ANDROID_ORIGIN = app_origins.android_origin(FINGERPRINT)
GRANT = apps.PASSKEY_GRANT


def mobile_app(rt: Runtime, tenant: Tenant) -> App:
    """An Android app with the passkey and refresh grants."""
    made, _ = apps.create(
        rt,
        tenant.id,
        name="Mobile",
        android_package="com.example.app",
        android_fingerprints=[FINGERPRINT],
        grant_types=[GRANT, "refresh_token"],
    )
    return made


class NativeApp:
    """What Auth0.Android / Auth0.swift send, against /t/{tenant}/."""

    def __init__(self, http: TestClient, tenant: Tenant, app: App, origin: str) -> None:
        self.http = http
        self.base = f"/t/{tenant.id}"
        self.client_id = app.client_id
        self.origin = origin
        self.authenticator = SoftAuthenticator(backup_eligible=True, backup_state=True)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.http.post(f"{self.base}{path}", json=body)

    def signup_challenge(self, **profile: Any) -> Any:
        body = {"client_id": self.client_id, "user_profile": profile or {"email": "a@example.com"}}
        return self.post("/passkey/register", body)

    def token(self, auth_session: str, credential: dict[str, Any], **extra: Any) -> Any:
        body = {
            "grant_type": GRANT,
            "client_id": self.client_id,
            "auth_session": auth_session,
            "authn_response": credential,
            **extra,
        }
        return self.post("/oauth/token", body)

    def sign_up(self, email: str = "ada@example.com", **extra: Any) -> Any:
        begun = self.signup_challenge(email=email, name="Ada")
        assert begun.status_code == 200, begun.text
        options = begun.json()["authn_params_public_key"]
        created = self.authenticator.create(options, origin=self.origin)
        return self.token(begun.json()["auth_session"], created, **extra)

    def sign_in(self, **extra: Any) -> Any:
        begun = self.post("/passkey/challenge", {"client_id": self.client_id})
        assert begun.status_code == 200, begun.text
        options = begun.json()["authn_params_public_key"]
        assertion = self.authenticator.get(options, origin=self.origin)
        # Auth0.Android drops clientExtensionResults; the grant must not need them.
        assertion.pop("clientExtensionResults", None)
        return self.token(begun.json()["auth_session"], assertion, **extra)


def verified_claims(http: TestClient, tenant: Tenant, token: str, audience: str) -> dict[str, Any]:
    """Discovery, then the JWKS it names, then PyJWT: what an app's backend does."""
    config = http.get(f"/t/{tenant.id}/.well-known/openid-configuration").json()
    jwks_path = config["jwks_uri"].split("://", 1)[1].split("/", 1)[1]
    jwks = http.get(f"/{jwks_path}").json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    [jwk] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims: dict[str, Any] = pyjwt.decode(
        token,
        pyjwt.PyJWK(jwk).key,
        algorithms=config["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=config["issuer"],
    )
    return claims
