"""The hosted vendor's unmodified Python SDK (PyPI `authsignal`) against a real Latchkey, with
only its base URL changed: what a team's existing backend code does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer, live_server
from tests.test_sdk import Browser

authsignal_client = pytest.importorskip(
    "authsignal.client", reason="the vendor SDK (pip install authsignal) is not installed"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("authsignal"))) as running:
        yield running


def _client(server: LiveServer, secret: str | None = None) -> object:
    return authsignal_client.AuthsignalClient(
        api_secret_key=secret or server.secret, api_url=f"{server.url}/v1"
    )


def test_vendor_sdk_drives_the_whole_flow(server: LiveServer) -> None:
    client = _client(server)
    browser = Browser(server)
    tracked = client.track(
        user_id="vendor-1",
        action="add-passkey",
        attributes={"username": "lin@example.com", "displayName": "Lin"},
    )
    assert tracked["state"] == "CHALLENGE_REQUIRED"
    assert tracked["is_enrolled"] is False
    token = browser.sign_up(tracked["token"])["accessToken"]
    validated = client.validate_challenge({"token": token})
    assert validated["is_valid"] is True
    assert validated["user_id"] == "vendor-1"
    assert validated["state"] == "CHALLENGE_SUCCEEDED"
    assert validated["verification_method"] == "PASSKEY"
    again = client.validate_challenge({"token": token})
    assert again["is_valid"] is False

    user = client.get_user(user_id="vendor-1")
    assert user["is_enrolled"] is True
    updated = client.update_user(
        user_id="vendor-1", attributes={"phoneNumber": "+14155552671", "displayName": "Lin W."}
    )
    assert updated["phone_number"] == "+14155552671"
    assert updated["display_name"] == "Lin W."

    action = client.get_action(
        user_id="vendor-1", action="add-passkey", idempotency_key=tracked["idempotency_key"]
    )
    assert action["state"] == "CHALLENGE_SUCCEEDED"
    changed = client.update_action(
        user_id="vendor-1",
        action="add-passkey",
        idempotency_key=tracked["idempotency_key"],
        attributes={"state": "REVIEW_REQUIRED"},
    )
    assert changed["state"] == "REVIEW_REQUIRED"

    [authenticator] = client.get_authenticators(user_id="vendor-1")
    assert authenticator["verification_method"] == "PASSKEY"
    client.delete_authenticator(
        user_id="vendor-1", user_authenticator_id=authenticator["user_authenticator_id"]
    )
    assert client.get_authenticators(user_id="vendor-1") == []
    client.delete_user(user_id="vendor-1")
    assert client.get_user(user_id="vendor-1")["is_enrolled"] is False


def test_vendor_sdk_sees_error_codes(server: LiveServer) -> None:
    client = _client(server, secret="lk_secret_not_ours")
    with pytest.raises(authsignal_client.ApiException) as refused:
        client.track(user_id="u", action="sign-in")
    assert refused.value.status_code == 401
    assert refused.value.error_code == "invalid_api_key"
    assert refused.value.error_description
