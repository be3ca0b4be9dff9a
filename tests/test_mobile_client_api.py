"""The vendor mobile SDKs (authsignal-android, authsignal-ios) on the /v1 client API: every
Basic form they send, the fields they add, and the calls only they make."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from tests.web_parties import Backend, Browser


def _forms(tenant_id: str) -> dict[str, str]:
    return {
        "browser": base64.b64encode(tenant_id.encode()).decode(),
        "android": base64.b64encode(f"{tenant_id}:".encode()).decode(),
        "ios": base64.urlsafe_b64encode(f"{tenant_id}:".encode()).decode().rstrip("="),
    }


@pytest.mark.parametrize("form", ["browser", "android", "ios"])
def test_every_basic_form_names_the_tenant(
    client: TestClient, tenant_and_secret: tuple[Tenant, str], form: str
) -> None:
    tenant = tenant_and_secret[0]
    basic = _forms(tenant.id)[form]
    answer = client.post(
        "/v1/client/challenge",
        json={"action": "sign-in"},
        headers={"authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    options = client.post(
        "/v1/client/user-authenticators/passkey/authentication-options",
        json={"challengeId": answer.json()["challengeId"], "deviceId": "device-1"},
        headers={"authorization": f"Basic {basic}"},
    )
    assert options.status_code == 200
    body = options.json()
    assert body["options"]["allowCredentials"] == []
    assert {"challenge", "rpId", "allowCredentials"} <= set(body["options"])


def test_unreadable_basic_is_refused(client: TestClient) -> None:
    for value in ("!!!", base64.b64encode(b":").decode()):
        answer = client.post(
            "/v1/client/challenge", json={}, headers={"authorization": f"Basic {value}"}
        )
        assert answer.status_code == 404
        assert answer.json()["errorCode"] == "tenant_not_found"


def test_registration_options_shape_and_extra_fields(backend: Backend, browser: Browser) -> None:
    token = backend.track("m-1", "add-passkey", username="m@example.com")["token"]
    answer = browser.post(
        "user-authenticators/passkey/registration-options",
        {"username": "m@example.com", "displayName": "M", "deviceId": "d-1"},
        token,
    )
    assert answer.status_code == 200
    options = answer.json()["options"]
    assert isinstance(options["timeout"], int)
    assert options["excludeCredentials"] == []
    assert {"challenge", "rp", "user", "pubKeyCredParams", "attestation"} <= set(options)
    assert set(options["authenticatorSelection"]) >= {
        "requireResidentKey",
        "residentKey",
        "userVerification",
    }
    assert options["user"]["displayName"] == "M"


def test_token_user_lists_authenticators(backend: Backend, browser: Browser) -> None:
    first = backend.track("m-2", "add-passkey")["token"]
    assert browser.sign_up(first).status_code == 200
    token = backend.track("m-2", "manage", scope="add:authenticators")["token"]
    listed = browser.http.get(
        "/v1/client/user-authenticators", headers={"authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200
    [passkey] = listed.json()
    assert passkey["verificationMethod"] == "PASSKEY"
    anonymous = browser.http.get("/v1/client/user-authenticators", headers=browser.headers(None))
    assert anonymous.status_code == 401


def test_availability_check_takes_credential_id(backend: Backend, browser: Browser) -> None:
    assert browser.sign_up(backend.track("m-3", "add-passkey")["token"]).status_code == 200
    credential_id = next(iter(browser.authenticator.credentials))
    encoded = base64.urlsafe_b64encode(credential_id).decode().rstrip("=")
    found = browser.http.get(
        f"/v1/client/user-authenticators/passkey?credentialId={encoded}",
        headers=browser.headers(None),
    )
    assert found.status_code == 200
    assert found.json()["webauthnCredential"]["credentialId"] == encoded
