"""The two parties of the web flow as tests drive them: the app backend and the browser."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from litestar.testing import TestClient

from latchkey.testing.authenticator import SoftAuthenticator

ORIGIN = "http://localhost:5002"


class Backend:
    """The app backend: the secret key as HTTP Basic user name."""

    def __init__(self, http: TestClient, secret: str) -> None:
        self.http = http
        self.auth = {"authorization": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()}

    def track(self, user_id: str, action: str, **body: Any) -> dict[str, Any]:
        answer = self.http.post(
            f"/v1/users/{user_id}/actions/{action}", json=body, headers=self.auth
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def validate(self, token: str, **body: Any) -> dict[str, Any]:
        answer = self.http.post("/v1/validate", json={"token": token, **body}, headers=self.auth)
        assert answer.status_code == 200, answer.text
        return answer.json()


class Browser:
    """What the Web SDK sends."""

    def __init__(
        self,
        http: httpx.Client,
        tenant_id: str,
        *,
        origin: str = ORIGIN,
        authenticator: SoftAuthenticator | None = None,
    ) -> None:
        self.http = http
        self.tenant_id = tenant_id
        self.origin = origin
        self.authenticator = authenticator or SoftAuthenticator()

    def headers(self, token: str | None) -> dict[str, str]:
        if token:
            return {"authorization": f"Bearer {token}"}
        return {"authorization": "Basic " + base64.b64encode(self.tenant_id.encode()).decode()}

    def post(self, path: str, body: Any, token: str | None = None) -> Any:
        return self.http.post(f"/v1/client/{path}", json=body, headers=self.headers(token))

    def sign_up(self, token: str) -> Any:
        begun = self.post("user-authenticators/passkey/registration-options", {}, token)
        if begun.status_code != 200:
            return begun
        created = self.authenticator.create(begun.json()["options"], origin=self.origin)
        body = {"registrationCredential": created, "challengeId": begun.json()["challengeId"]}
        return self.post("user-authenticators/passkey", body, token)

    def sign_in(self, token: str | None = None, action: str | None = None) -> Any:
        challenge_id = None
        if action:
            challenge_id = self.post("challenge", {"action": action}).json()["challengeId"]
        begun = self.post(
            "user-authenticators/passkey/authentication-options",
            {"challengeId": challenge_id},
            token,
        )
        assert begun.status_code == 200, begun.text
        assertion = self.authenticator.get(begun.json()["options"], origin=self.origin)
        body = {"authenticationCredential": assertion, "challengeId": begun.json()["challengeId"]}
        return self.post("verify/passkey", body, token)
