"""Tenant isolation, as a matrix: every endpoint that takes an id (user, credential, challenge,
token, action, app, pool, key, event) is called with another tenant's credentials and that id.
Each is refused as not found (or answers as for an id it never saw), nothing of the first tenant
appears in any answer, and the first tenant's data is untouched and still usable."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps, directories, pools, tenants
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.pools import PoolBrowser
from tests.web_parties import ORIGIN, Backend, Browser

PASSKEY_GRANT = apps.PASSKEY_GRANT


@dataclass
class Owned:
    """What tenant A holds, by the ids a caller could present."""

    tenant: Tenant
    user_id: str
    credential_row_id: str
    credential_id: str
    idempotency_key: str
    result_token: str
    challenge_id: str
    assertion: dict[str, Any]
    client_id: str
    refresh_token: str
    pool_id: str
    kid: str
    secret: str
    email: str = "alice@example.com"

    def secrets(self) -> list[str]:
        """Strings that must never appear in another tenant's answers."""
        return [
            self.tenant.id,
            self.user_id,
            self.credential_row_id,
            self.credential_id,
            self.idempotency_key,
            self.result_token,
            self.client_id,
            self.pool_id,
            self.kid,
            self.email,
        ]


def _owned(rt: Runtime, client: TestClient, tenant: Tenant, secret: str) -> Owned:
    backend, browser = Backend(client, secret), Browser(client, tenant.id)
    tracked = backend.track("alice", "add-passkey", email="alice@example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    signed_in = browser.sign_in()
    result_token = signed_in.json()["accessToken"]
    auth = backend.http.get("/v1/users/alice/authenticators", headers=backend.auth).json()
    begun = browser.post("user-authenticators/passkey/authentication-options", {}).json()
    assertion = browser.authenticator.get(begun["options"], origin=ORIGIN)
    made, _ = apps.create(
        rt,
        tenant.id,
        name="Mobile",
        android_package="com.example.app",
        android_fingerprints=[":".join(["AB"] * 32)],
        grant_types=[PASSKEY_GRANT, "refresh_token"],
    )
    refresh = _native_refresh_token(client, tenant, made.client_id)
    directories.create(rt, tenant.id, "customers", {"email": "required"})
    pool = pools.configure(rt, tenant.id, "customers", {"bot_check": False})
    assert PoolBrowser(client, tenant.id, pool.id).sign_up("alice@example.com").status_code == 200
    jwks = client.get(f"/t/{tenant.id}/.well-known/jwks.json").json()
    return Owned(
        tenant=tenant,
        user_id="alice",
        credential_row_id=auth[0]["userAuthenticatorId"],
        credential_id=auth[0]["webauthnCredential"]["credentialId"],
        idempotency_key=tracked["idempotencyKey"],
        result_token=result_token,
        challenge_id=begun["challengeId"],
        assertion=assertion,
        client_id=made.client_id,
        refresh_token=refresh,
        pool_id=pool.id,
        kid=jwks["keys"][0]["kid"],
        secret=secret,
    )


def _native_refresh_token(client: TestClient, tenant: Tenant, client_id: str) -> str:
    begun = client.post(
        f"/t/{tenant.id}/passkey/register",
        json={"client_id": client_id, "user_profile": {"email": "native@example.com"}},
    ).json()
    created = SoftAuthenticator().create(begun["authn_params_public_key"], origin=ORIGIN)
    answer = client.post(
        f"/t/{tenant.id}/oauth/token",
        json={
            "grant_type": PASSKEY_GRANT,
            "client_id": client_id,
            "auth_session": begun["auth_session"],
            "authn_response": created,
            "scope": "openid offline_access",
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["refresh_token"])


@pytest.fixture
def setting(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> tuple[Owned, Tenant, str]:
    owned = _owned(rt, client, *tenant_and_secret)
    other, other_secret = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    return owned, other, other_secret


Call = Callable[[TestClient, Owned, Tenant, dict[str, str]], Any]


def _basic(secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()}


def _browser(tenant: Tenant) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(tenant.id.encode()).decode()}


# (name, call, what a refusal looks like: a status code, or a check of a 200 body)
MATRIX: list[tuple[str, Call, Callable[[Any], bool]]] = [
    (
        "GET user",
        lambda c, o, t, k: c.get(f"/v1/users/{o.user_id}", headers=k),
        lambda a: a.status_code == 200 and a.json()["isEnrolled"] is False,
    ),
    (
        "GET authenticators",
        lambda c, o, t, k: c.get(f"/v1/users/{o.user_id}/authenticators", headers=k),
        lambda a: a.status_code == 200 and a.json() == [],
    ),
    (
        "DELETE authenticator",
        lambda c, o, t, k: c.delete(
            f"/v1/users/{o.user_id}/authenticators/{o.credential_row_id}", headers=k
        ),
        lambda a: a.status_code == 404,
    ),
    (
        "GET action",
        lambda c, o, t, k: c.get(
            f"/v1/users/{o.user_id}/actions/add-passkey/{o.idempotency_key}", headers=k
        ),
        lambda a: a.status_code == 404,
    ),
    (
        "PATCH action",
        lambda c, o, t, k: c.patch(
            f"/v1/users/{o.user_id}/actions/add-passkey/{o.idempotency_key}",
            json={"state": "CHALLENGE_FAILED"},
            headers=k,
        ),
        lambda a: a.status_code == 404,
    ),
    (
        "validate token",
        lambda c, o, t, k: c.post("/v1/validate", json={"token": o.result_token}, headers=k),
        lambda a: a.status_code == 401 or (a.status_code == 200 and a.json()["isValid"] is False),
    ),
    (
        "verify with challenge",
        lambda c, o, t, k: c.post(
            "/v1/client/verify/passkey",
            json={"authenticationCredential": o.assertion, "challengeId": o.challenge_id},
            headers=_browser(t),
        ),
        lambda a: a.status_code == 404,
    ),
    (
        "credential lookup",
        lambda c, o, t, k: c.get(
            f"/v1/client/user-authenticators/passkey?credentialId={o.credential_id}",
            headers=_browser(t),
        ),
        lambda a: a.status_code in (200, 404) and o_free(a),
    ),
    (
        "ceremony API credentials",
        lambda c, o, t, k: c.get(
            f"/api/v1/tenants/{t.id}/users/{o.user_id}/credentials", headers=k
        ),
        lambda a: a.status_code == 404,
    ),
    (
        "ceremony API, the other tenant's path",
        lambda c, o, t, k: c.get(f"/api/v1/tenants/{o.tenant.id}/events", headers=k),
        lambda a: a.status_code in (401, 403, 404),
    ),
    (
        "events",
        lambda c, o, t, k: c.get(f"/api/v1/tenants/{t.id}/events", headers=k),
        lambda a: a.status_code == 200,
    ),
    (
        "native challenge with the app",
        lambda c, o, t, k: c.post(f"/t/{t.id}/passkey/challenge", json={"client_id": o.client_id}),
        lambda a: a.status_code == 401 and a.json()["error"] == "invalid_client",
    ),
    (
        "refresh token",
        lambda c, o, t, k: c.post(
            f"/t/{t.id}/oauth/token",
            json={
                "grant_type": "refresh_token",
                "client_id": o.client_id,
                "refresh_token": o.refresh_token,
            },
        ),
        lambda a: a.status_code == 401,
    ),
    (
        "pool endpoints",
        lambda c, o, t, k: c.post(f"/{t.id}/identity/{o.pool_id}/login/webauthn/options", json={}),
        lambda a: a.status_code == 404 and a.json()["error_code"] == "pool_not_found",
    ),
    (
        "pool page",
        lambda c, o, t, k: c.get(f"/{t.id}/identity/{o.pool_id}/signin"),
        lambda a: a.status_code == 404,
    ),
    (
        "keys",
        lambda c, o, t, k: c.get(f"/t/{t.id}/.well-known/jwks.json"),
        lambda a: a.status_code == 200,
    ),
    (
        "DELETE user",
        lambda c, o, t, k: c.delete(f"/v1/users/{o.user_id}", headers=k),
        lambda a: a.status_code in (200, 404),
    ),
]


def o_free(answer: Any) -> bool:
    return answer.json() in ({"userAuthenticators": []}, [], {}) or "error" in answer.json()


def test_every_id_is_refused_to_another_tenant(
    rt: Runtime, client: TestClient, setting: tuple[Owned, Tenant, str]
) -> None:
    owned, other, other_secret = setting
    for name, call, refused in MATRIX:
        answer = call(client, owned, other, _basic(other_secret))
        assert answer.status_code < 500, (name, answer.text)
        assert refused(answer), (name, answer.status_code, answer.text)
        # An id the caller presented may be echoed back; anything else of A may not appear.
        asked = str(answer.request.url) + answer.request.content.decode()
        leaked = [s for s in owned.secrets() if s in answer.text and s not in asked]
        assert leaked == [], (name, leaked, answer.text)

    # The first tenant's data is all still there and usable by its owner.
    mine = _basic(owned.secret)
    assert client.get("/v1/users/alice", headers=mine).json()["isEnrolled"] is True
    validated = client.post("/v1/validate", json={"token": owned.result_token}, headers=mine)
    assert validated.json()["isValid"] is True
    verified = client.post(
        "/v1/client/verify/passkey",
        json={"authenticationCredential": owned.assertion, "challengeId": owned.challenge_id},
        headers=_browser(owned.tenant),
    )
    assert verified.status_code == 200, verified.text
