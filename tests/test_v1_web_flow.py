"""The vendor-compatible /v1 surface: track -> signUp -> validate, signIn with and without a
token, authenticator binding, single-use result tokens, tenant isolation."""

from __future__ import annotations

import base64

from litestar.testing import TestClient

from latchkey.runtime import Runtime
from tests.ceremony_client import row_counts
from tests.support.clock import FakeClock
from tests.web_parties import ORIGIN, Backend, Browser


def test_sign_up_then_sign_in_and_validate_once(backend: Backend, browser: Browser) -> None:
    tracked = backend.track("u-1", "add-passkey", username="ada@example.com")
    assert tracked["state"] == "CHALLENGE_REQUIRED"
    assert tracked["isEnrolled"] is False
    signed_up = browser.sign_up(tracked["token"])
    assert signed_up.status_code == 200, signed_up.text
    body = signed_up.json()
    assert body["isVerified"] is True
    assert body["userId"] == "u-1"
    assert body["userAuthenticator"]["verificationMethod"] == "PASSKEY"
    validated = backend.validate(body["accessToken"])
    assert validated["isValid"] is True
    assert validated["state"] == "CHALLENGE_SUCCEEDED"
    assert validated["action"] == "add-passkey"
    assert validated["userId"] == "u-1"
    assert validated["verificationMethod"] == "PASSKEY"
    assert validated["idempotencyKey"] == tracked["idempotencyKey"]
    assert backend.validate(body["accessToken"])["isValid"] is False  # replayed

    # Sign in with the button / autofill: no token, discoverable.
    signed_in = browser.sign_in()
    assert signed_in.status_code == 200, signed_in.text
    result = backend.validate(signed_in.json()["accessToken"])
    assert result["isValid"] is True
    assert result["userId"] == "u-1"
    assert result["action"] == "signInWithPasskey"
    assert result["username"] == "ada@example.com"

    # Sign in for a named action, and with a tracked token.
    named = browser.sign_in(action="signIn")
    assert backend.validate(named.json()["accessToken"])["action"] == "signIn"
    tracked = backend.track("u-1", "sign-in")
    assert tracked["isEnrolled"] is True
    with_token = browser.sign_in(token=tracked["token"])
    assert with_token.status_code == 200, with_token.text
    checked = backend.validate(with_token.json()["accessToken"], userId="u-1", action="sign-in")
    assert checked["isValid"] is True


def test_binding_requires_add_authenticators_scope(
    backend: Backend, browser: Browser, rt: Runtime
) -> None:
    assert browser.sign_up(backend.track("u-2", "add-passkey")["token"]).status_code == 200
    before = row_counts(rt.engine)
    refused = browser.sign_up(backend.track("u-2", "add-passkey")["token"])
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "add_authenticators_scope_required"
    assert set(refused.json()) == {"error", "errorCode", "errorDescription"}
    assert row_counts(rt.engine) == before
    second = Browser(browser.http, browser.tenant_id)
    scoped = backend.track("u-2", "add-passkey", scope="add:authenticators")
    assert second.sign_up(scoped["token"]).status_code == 200


def test_expired_token(backend: Backend, browser: Browser, clock: FakeClock) -> None:
    token = backend.track("u-3", "add-passkey")["token"]
    clock.advance(minutes=11)
    answer = browser.sign_up(token)
    assert answer.status_code == 401
    assert answer.json()["errorCode"] == "expired_token"


def test_expired_result_token_is_not_valid(
    backend: Backend, browser: Browser, clock: FakeClock
) -> None:
    token = browser.sign_up(backend.track("u-4", "add-passkey")["token"]).json()["accessToken"]
    clock.advance(minutes=11)
    assert backend.validate(token)["isValid"] is False


def test_other_tenants_and_tampered_tokens_are_not_valid(
    backend: Backend, browser: Browser, rt: Runtime, client: TestClient
) -> None:
    from latchkey.services import tenants

    token = browser.sign_up(backend.track("u-5", "add-passkey")["token"]).json()["accessToken"]
    _other, other_secret = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    assert Backend(client, other_secret).validate(token)["isValid"] is False
    assert backend.validate(token + "x")["isValid"] is False
    assert backend.validate("garbage")["isValid"] is False
    assert backend.validate(token)["isValid"] is True  # the other tenant's try did not burn it


def test_server_api_needs_the_secret(client: TestClient) -> None:
    answer = client.post("/v1/users/u/actions/signIn", json={})
    assert answer.status_code == 401
    assert answer.json()["errorCode"] == "invalid_api_key"
    bad = {"authorization": "Basic " + base64.b64encode(b"lk_secret_nope:").decode()}
    assert client.post("/v1/validate", json={"token": "x"}, headers=bad).status_code == 401


def test_client_api_needs_a_known_tenant_or_token(client: TestClient) -> None:
    unknown = {"authorization": "Basic " + base64.b64encode(b"no-such-tenant").decode()}
    answer = client.post("/v1/client/challenge", json={}, headers=unknown)
    assert answer.status_code == 404
    assert answer.json()["errorCode"] == "tenant_not_found"
    bogus = {"authorization": "Bearer lk_tok_bogus"}
    answer = client.post(
        "/v1/client/user-authenticators/passkey/registration-options", json={}, headers=bogus
    )
    assert answer.status_code == 401
    assert answer.json()["errorCode"] == "invalid_token"


def test_users_authenticators_and_actions(backend: Backend, browser: Browser) -> None:
    tracked = backend.track("u-6", "add-passkey", username="grace")
    browser.sign_up(tracked["token"])
    user = backend.http.get("/v1/users/u-6", headers=backend.auth).json()
    assert user["isEnrolled"] is True
    assert user["username"] == "grace"
    [authenticator] = backend.http.get("/v1/users/u-6/authenticators", headers=backend.auth).json()
    assert authenticator["webauthnCredential"]["credentialDeviceType"] == "singleDevice"
    path = f"/v1/users/u-6/actions/add-passkey/{tracked['idempotencyKey']}"
    assert backend.http.get(path, headers=backend.auth).json()["state"] == "CHALLENGE_SUCCEEDED"
    patched = backend.http.patch(path, json={"state": "REVIEW_REQUIRED"}, headers=backend.auth)
    assert patched.json()["state"] == "REVIEW_REQUIRED"
    # As the vendor does: an unknown user is a user with nothing enrolled, not an error.
    missing = backend.http.get("/v1/users/nobody", headers=backend.auth)
    assert missing.status_code == 200
    assert missing.json()["isEnrolled"] is False
    assert missing.json()["enrolledVerificationMethods"] == []
