"""The hosted vendor's unmodified Python SDK (PyPI `authsignal`, 4.x) against a real Latchkey,
with only its base URL changed: what a team's existing backend code does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, live_server
from tests.web_browser_client import ICLOUD_KEYCHAIN, LiveBrowser

authsignal_client = pytest.importorskip(
    "authsignal.client",
    reason="the vendor SDK is not installed (pip install 'authsignal>=4.1,<5')",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("authsignal"))) as running:
        yield running


@pytest.fixture
def browser(server: LiveServer) -> Iterator[LiveBrowser]:
    opened = LiveBrowser(server)
    yield opened
    opened.close()


def _client(server: LiveServer, secret: str | None = None) -> Any:
    return authsignal_client.AuthsignalClient(
        api_secret_key=secret or server.secret, api_url=f"{server.url}/v1"
    )


def test_answers_are_plain_application_json(server: LiveServer) -> None:
    """The vendor SDK decamelizes (and so returns anything at all) only for this exact type."""
    answer = httpx.get(f"{server.url}/v1/users/anyone", auth=(server.secret, ""))
    assert answer.headers["content-type"] == "application/json"


def test_vendor_sdk_signs_up_and_validates_once(server: LiveServer, browser: LiveBrowser) -> None:
    client = _client(server)
    tracked = client.track(
        user_id="vendor-1",
        action="add-passkey",
        attributes={"username": "lin@example.com", "displayName": "Lin"},
    )
    assert tracked["state"] == "CHALLENGE_REQUIRED"
    assert tracked["is_enrolled"] is False
    assert tracked["allowed_verification_methods"] == ["PASSKEY"]
    token = browser.sign_up(tracked["token"])["accessToken"]

    validated = client.validate_challenge({"token": token, "userId": "vendor-1"})
    assert validated["is_valid"] is True
    assert validated["user_id"] == "vendor-1"
    assert validated["action"] == "add-passkey"
    assert validated["state"] == "CHALLENGE_SUCCEEDED"
    assert validated["verification_method"] == "PASSKEY"
    assert validated["idempotency_key"] == tracked["idempotency_key"]
    assert validated["username"] == "lin@example.com"
    assert client.validate_challenge({"token": token})["is_valid"] is False

    tracked_again = client.track(user_id="vendor-1", action="sign-in")
    assert tracked_again["is_enrolled"] is True
    signed_in = browser.sign_in(tracked_again["token"], action=None)
    result = client.validate_challenge({"token": signed_in["accessToken"], "action": "sign-in"})
    assert (result["is_valid"], result["user_id"]) == (True, "vendor-1")


def test_vendor_sdk_manages_users_authenticators_and_actions(
    server: LiveServer, browser: LiveBrowser
) -> None:
    client = _client(server)
    tracked = client.track(user_id="vendor-2", action="add-passkey", attributes={"username": "mo"})
    signed_up = browser.sign_up(tracked["token"])

    user = client.get_user(user_id="vendor-2")
    assert (user["user_id"], user["is_enrolled"], user["username"]) == ("vendor-2", True, "mo")
    updated = client.update_user(
        user_id="vendor-2",
        attributes={
            "email": "mo@example.com",
            "phoneNumber": "+14155552671",
            "displayName": "Mo W.",
        },
    )
    assert updated["email"] == "mo@example.com"
    assert updated["phone_number"] == "+14155552671"
    assert updated["display_name"] == "Mo W."

    action = client.get_action(
        user_id="vendor-2", action="add-passkey", idempotency_key=tracked["idempotency_key"]
    )
    assert action["state"] == "CHALLENGE_SUCCEEDED"
    assert action["state_updated_at"]
    changed = client.update_action(
        user_id="vendor-2",
        action="add-passkey",
        idempotency_key=tracked["idempotency_key"],
        attributes={"state": "REVIEW_REQUIRED"},
    )
    assert changed["state"] == "REVIEW_REQUIRED"

    [authenticator] = client.get_authenticators(user_id="vendor-2")
    assert authenticator["verification_method"] == "PASSKEY"
    credential = authenticator["webauthn_credential"]
    assert credential["credential_id"] == signed_up["credentialId"]
    assert credential["aaguid"] == ICLOUD_KEYCHAIN
    assert credential["aaguid_mapping"] == {"name": "iCloud Keychain"}
    assert credential["credential_backed_up"] is True
    client.delete_authenticator(
        user_id="vendor-2", user_authenticator_id=authenticator["user_authenticator_id"]
    )
    assert client.get_authenticators(user_id="vendor-2") == []

    client.delete_user(user_id="vendor-2")
    assert client.get_user(user_id="vendor-2")["is_enrolled"] is False
    with pytest.raises(authsignal_client.ApiException) as missing:
        client.delete_user(user_id="vendor-2")
    assert (missing.value.status_code, missing.value.error_code) == (404, "user_not_found")


def test_vendor_sdk_sees_error_codes(server: LiveServer) -> None:
    client = _client(server, secret="lk_secret_not_ours")
    with pytest.raises(authsignal_client.ApiException) as refused:
        client.track(user_id="u", action="sign-in")
    assert refused.value.status_code == 401
    assert refused.value.error_code == "invalid_api_key"
    assert refused.value.error_description


def test_vendor_sdk_idempotent_track_review_states_and_user_fields(
    server: LiveServer, browser: LiveBrowser
) -> None:
    """Issue 18 items 12, 14, 16, 17 as the vendor's Python SDK sees them."""
    client = _client(server)
    key = "3c2b1a09-8f7e-4d6c-9b5a-493827161504"
    attributes = {"idempotencyKey": key, "redirectUrl": f"{server.url}/done"}
    first = client.track(user_id="vendor-3", action="add-passkey", attributes=attributes)
    again = client.track(user_id="vendor-3", action="add-passkey", attributes=attributes)
    assert (again["idempotency_key"], again["token"]) == (key, first["token"])
    assert first["url"] == f"{server.url}/hosted/{server.tenant_id}/action#token={first['token']}"
    browser.sign_up(first["token"])
    for state in ("REVIEW_SUCCEEDED", "REVIEW_FAILED"):
        changed = client.update_action(
            user_id="vendor-3",
            action="add-passkey",
            idempotency_key=key,
            attributes={"state": state},
        )
        assert changed["state"] == state

    updated = client.update_user(
        user_id="vendor-3",
        attributes={"email": "v3@example.com", "emailVerified": True, "custom": {"tier": "gold"}},
    )
    assert (updated["email_verified"], updated["phone_number_verified"]) == (True, False)
    assert updated["custom"] == {"tier": "gold"}
    [authenticator] = client.get_authenticators(user_id="vendor-3")
    assert authenticator["user_id"] == "vendor-3"
