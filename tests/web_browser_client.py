"""The browser's half of the web flow over real HTTP, as the Web SDK sends it, for tests that
drive a live server with a backend SDK (Latchkey's or the vendor's)."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import LiveServer

ICLOUD_KEYCHAIN = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"


class LiveBrowser:
    """One browser with one passkey provider (a synced one, like iCloud Keychain)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=f"{server.url}/v1/client", timeout=10)
        self.authenticator = SoftAuthenticator(
            aaguid=bytes.fromhex(ICLOUD_KEYCHAIN.replace("-", "")),
            backup_eligible=True,
            backup_state=True,
            transports=["internal", "hybrid"],
        )

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        tenant = base64.b64encode(self.server.tenant_id.encode()).decode()
        auth = f"Bearer {token}" if token else f"Basic {tenant}"
        answer = self.http.post(path, json=body, headers={"authorization": auth})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sign_up(self, token: str) -> dict[str, Any]:
        """`client.passkey.signUp({ token })`: the answer, plus the new passkey's id."""
        begun = self._post("/user-authenticators/passkey/registration-options", {}, token)
        created = self.authenticator.create(begun["options"], origin=self.server.url)
        body = {"registrationCredential": created, "challengeId": begun["challengeId"]}
        done = dict(self._post("/user-authenticators/passkey", body, token))
        return {**done, "credentialId": created["id"]}

    def sign_in(self, action: str = "sign-in") -> dict[str, Any]:
        """`client.passkey.signIn({ action })` with a discoverable passkey."""
        challenge_id = self._post("/challenge", {"action": action})["challengeId"]
        begun = self._post(
            "/user-authenticators/passkey/authentication-options", {"challengeId": challenge_id}
        )
        assertion = self.authenticator.get(begun["options"], origin=self.server.url)
        body = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
        return dict(self._post("/verify/passkey", body))
