"""OpenID Connect in tests: a regular web app registered for the code flow, a relying party
on a browser (PKCE, state, nonce, its token calls and ID-token checks), and a device that holds
a pool session and the app's tokens from it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet
from litestar.testing import TestClient

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps, pools
from tests.support.pools import PoolBrowser

CALLBACK = "https://app.example/callback"
HOME = "https://app.example/"


def make_app(rt: Runtime, tenant: Tenant, *, confidential: bool = False) -> tuple[App, str | None]:
    return apps.create(
        rt,
        tenant.id,
        name="Portal",
        app_type="regular_web",
        confidential=confidential,
        redirect_uris=[CALLBACK, HOME],
        grant_types=["authorization_code", "refresh_token"],
    )


@dataclass
class Relying:
    """An OIDC client on a browser: its PKCE verifier, state and nonce for one sign-in."""

    http: TestClient
    tenant: Tenant
    app: App
    pool: pools.Pool
    verifier: str = ""
    state: str = ""
    nonce: str = ""

    @property
    def issuer(self) -> str:
        return f"http://localhost:8000/t/{self.tenant.id}/"

    def authorize(self, **overrides: Any) -> Any:
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(12)
        self.nonce = secrets.token_urlsafe(12)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": self.app.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email offline_access",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "pool": self.pool.id,
            **overrides,
        }
        params = {k: v for k, v in params.items() if v is not None}
        return self.http.get(
            f"/t/{self.tenant.id}/authorize", params=params, follow_redirects=False
        )

    def token(self, code: str, **overrides: Any) -> Any:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": self.app.client_id,
            "code_verifier": self.verifier,
            **overrides,
        }
        form = {k: v for k, v in form.items() if v is not None}
        return self.http.post(f"/t/{self.tenant.id}/oauth/token", data=form)

    def keys(self) -> KeySet:
        return KeySet.import_key_set(
            self.http.get(f"/t/{self.tenant.id}/.well-known/jwks.json").json()
        )

    def access_claims(self, access_token: str) -> dict[str, Any]:
        token = jwt.decode(access_token, self.keys())
        assert token.header["typ"] == "at+jwt"
        return dict(token.claims)

    def claims(self, id_token: str) -> dict[str, Any]:
        token = jwt.decode(id_token, self.keys())
        # Leeway: the tests move Latchkey's clock ahead of the real one.
        jwt.JWTClaimsRegistry(
            leeway=600,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.app.client_id},
            nonce={"essential": True, "value": self.nonce},
        ).validate(token.claims)
        return dict(token.claims)


def redirected(answer: Any) -> tuple[str, dict[str, str]]:
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return location.split("?")[0], query


@dataclass
class Device:
    """One browser with its own passkey, its SSO session and the app's tokens from it."""

    browser: PoolBrowser
    rp: Relying
    tokens: dict[str, Any]

    def refresh(self) -> Any:
        answer = self.rp.http.post(
            f"/t/{self.rp.tenant.id}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": self.rp.app.client_id,
                "refresh_token": self.tokens["refresh_token"],
            },
        )
        if answer.status_code == 200:
            self.tokens = answer.json()
        return answer

    def silent_sign_in(self) -> dict[str, str]:
        """prompt=none: a code if the browser's session still stands, else an error."""
        back, params = redirected(self.rp.authorize(prompt="none"))
        assert back == CALLBACK
        return params

    def userinfo(self) -> Any:
        return self.rp.http.get(
            f"/t/{self.rp.tenant.id}/userinfo",
            headers={"authorization": f"Bearer {self.tokens['access_token']}"},
        )


def app_tokens(rp: Relying) -> dict[str, Any]:
    """The app's tokens for the browser's current SSO session (no sign-in page)."""
    back, params = redirected(rp.authorize())
    assert back == CALLBACK, params
    answer = rp.token(params["code"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["refresh_token"]
    return dict(answer.json())


def new_device(http: TestClient, tenant: Tenant, app: App, pool: pools.Pool) -> Device:
    rp = Relying(http, tenant, app, pool)
    return Device(PoolBrowser(http, tenant.id, pool.id), rp, {})
