"""The app backend's side of the browser tests, and the steps every test repeats."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.live_server import LiveServer


@dataclass
class Tab:
    """A page with its own virtual authenticator."""

    page: Any
    cdp: Any
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return list(found["credentials"])

    def call(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)


class Backend:
    """The app backend: track and validate with the tenant's secret key."""

    def __init__(self, server: LiveServer) -> None:
        secret = base64.b64encode(f"{server.secret}:".encode()).decode()
        self.http = httpx.Client(
            base_url=f"{server.url}/v1", headers={"authorization": f"Basic {secret}"}, timeout=10
        )

    def track(self, user_id: str, action: str = "add-passkey", **body: Any) -> str:
        answer = self.http.post(f"/users/{user_id}/actions/{action}", json=body)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def validate(self, token: str) -> dict[str, Any]:
        answer = self.http.post("/validate", json={"token": token})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def validate_once(self, token: str, user_id: str) -> None:
        first = self.validate(token)
        assert first["isValid"] is True, first
        assert first["userId"] == user_id
        assert first["state"] == "CHALLENGE_SUCCEEDED"
        assert self.validate(token)["isValid"] is False


class VendorBackend(Backend):
    """The same backend written with the vendor's unmodified Python SDK (PyPI `authsignal`)."""

    def __init__(self, server: LiveServer) -> None:
        from authsignal.client import AuthsignalClient

        super().__init__(server)
        self.vendor = AuthsignalClient(api_secret_key=server.secret, api_url=f"{server.url}/v1")

    def track(self, user_id: str, action: str = "add-passkey", **body: Any) -> str:
        return str(self.vendor.track(user_id=user_id, action=action, attributes=body)["token"])

    def validate(self, token: str) -> dict[str, Any]:
        answer = self.vendor.validate_challenge({"token": token})
        return {
            "isValid": answer["is_valid"],
            "userId": answer.get("user_id"),
            "state": answer.get("state"),
        }


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def token_of(result: dict[str, Any]) -> str:
    assert result.get("data"), result
    token = result["data"].get("token")
    assert token, result
    return str(token)


def sign_up(tab: Tab, backend: Backend, user_id: str) -> None:
    token = backend.track(user_id, username=f"{user_id}@example.com")
    result = tab.call("(token) => sdk.signUp({ token })", token)
    backend.validate_once(token_of(result), user_id)
