"""Latchkey's Python SDK against a real server: the sync and async clients, typed results, and
errors carrying Latchkey's error codes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from latchkey.sdk import (
    AsyncLatchkeyClient,
    LatchkeyClient,
    NotFound,
    TransportError,
    Unauthorized,
)
from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("sdk"))) as running:
        yield running


class Browser:
    """The browser's half of the flow, as the Web SDK sends it, over real HTTP."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=f"{server.url}/v1/client", timeout=10)
        self.authenticator = SoftAuthenticator()

    def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        auth = (
            f"Bearer {token}"
            if token
            else "Basic " + base64.b64encode(self.server.tenant_id.encode()).decode()
        )
        answer = self.http.post(path, json=body, headers={"authorization": auth})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sign_up(self, token: str) -> dict[str, Any]:
        begun = self._post("/user-authenticators/passkey/registration-options", {}, token)
        created = self.authenticator.create(begun["options"], origin=self.server.url)
        body = {"registrationCredential": created, "challengeId": begun["challengeId"]}
        return dict(self._post("/user-authenticators/passkey", body, token))

    def sign_in(self) -> dict[str, Any]:
        challenge_id = self._post("/challenge", {"action": "sign-in"})["challengeId"]
        begun = self._post(
            "/user-authenticators/passkey/authentication-options", {"challengeId": challenge_id}
        )
        assertion = self.authenticator.get(begun["options"], origin=self.server.url)
        body = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
        return dict(self._post("/verify/passkey", body))


def test_sync_client_round_trip(server: LiveServer) -> None:
    browser = Browser(server)
    with LatchkeyClient(server.secret, base_url=f"{server.url}/v1") as latchkey:
        tracked = latchkey.track("sdk-1", "add-passkey", {"username": "ada", "displayName": "Ada"})
        assert tracked.state == "CHALLENGE_REQUIRED"
        assert tracked.is_enrolled is False
        result = latchkey.validate(browser.sign_up(tracked.token)["accessToken"])
        assert result.is_valid is True
        assert (result.user_id, result.action, result.state) == (
            "sdk-1",
            "add-passkey",
            "CHALLENGE_SUCCEEDED",
        )
        assert result.state_updated_at is not None
        assert latchkey.validate(result.raw["idempotencyKey"]).is_valid is False

        signed_in = browser.sign_in()
        again = latchkey.validate(signed_in["accessToken"], action="sign-in")
        assert again.is_valid
        assert again.user_id == "sdk-1"
        assert latchkey.validate(signed_in["accessToken"]).is_valid is False  # once only

        user = latchkey.update_user("sdk-1", {"email": "ada@example.com"})
        assert (user.is_enrolled, user.email, user.display_name) == (True, "ada@example.com", "Ada")
        [passkey] = latchkey.get_authenticators("sdk-1")
        assert passkey.verification_method == "PASSKEY"
        assert passkey.credential_id
        action = latchkey.get_action("sdk-1", "add-passkey", tracked.idempotency_key)
        assert action.state == "CHALLENGE_SUCCEEDED"
        changed = latchkey.update_action(
            "sdk-1", "add-passkey", tracked.idempotency_key, "REVIEW_REQUIRED"
        )
        assert changed.state == "REVIEW_REQUIRED"
        latchkey.delete_authenticator("sdk-1", passkey.user_authenticator_id)
        assert latchkey.get_authenticators("sdk-1") == []
        latchkey.delete_user("sdk-1")
        assert latchkey.get_user("sdk-1").is_enrolled is False
        with pytest.raises(NotFound) as missing:
            latchkey.delete_user("sdk-1")
        assert missing.value.error_code == "user_not_found"
        assert missing.value.status_code == 404


def test_async_client_round_trip(server: LiveServer) -> None:
    browser = Browser(server)

    async def run() -> None:
        async with AsyncLatchkeyClient(server.secret, base_url=f"{server.url}/v1") as latchkey:
            tracked = await latchkey.track("sdk-2", "add-passkey", {"username": "grace"})
            token = browser.sign_up(tracked.token)["accessToken"]
            result = await latchkey.validate(token, user_id="sdk-2")
            assert result.is_valid
            assert result.username == "grace"
            assert (await latchkey.get_user("sdk-2")).is_enrolled is True
            [passkey] = await latchkey.get_authenticators("sdk-2")
            await latchkey.delete_authenticator("sdk-2", passkey.user_authenticator_id)
            with pytest.raises(NotFound) as gone:
                await latchkey.delete_authenticator("sdk-2", passkey.user_authenticator_id)
            assert gone.value.error_code == "credential_not_found"

    # Its own thread: another test's browser driver may own this thread's event loop.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, run()).result()


def test_wrong_secret(server: LiveServer) -> None:
    with (
        LatchkeyClient("lk_secret_wrong", base_url=f"{server.url}/v1") as latchkey,
        pytest.raises(Unauthorized) as refused,
    ):
        latchkey.track("u", "sign-in")
    assert refused.value.status_code == 401
    assert refused.value.error_code == "invalid_api_key"


def test_unreachable_server() -> None:
    with (
        LatchkeyClient("lk_secret_x", base_url="http://127.0.0.1:9/v1", timeout=2) as latchkey,
        pytest.raises(TransportError),
    ):
        latchkey.get_user("u")


def test_path_segments_are_escaped(server: LiveServer) -> None:
    with LatchkeyClient(server.secret, base_url=f"{server.url}/v1") as latchkey:
        tracked = latchkey.track("ada@example.com?x y|z", "sign-in")
        assert latchkey.get_user("ada@example.com?x y|z").user_id == "ada@example.com?x y|z"
        action = latchkey.get_action("ada@example.com?x y|z", "sign-in", tracked.idempotency_key)
        assert action.user_id == "ada@example.com?x y|z"
