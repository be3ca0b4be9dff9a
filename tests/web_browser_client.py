"""The browser's half of the web flow over real HTTP, as the Web SDK sends it, for tests that
drive a live server with a backend SDK (Latchkey's or the vendor's)."""

from __future__ import annotations

from typing import Any

import httpx

from latchkey.testing.authenticator import SoftAuthenticator, b64url
from tests.live_server import LiveServer
from tests.web_parties import Browser

ICLOUD_KEYCHAIN = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"


class LiveBrowser(Browser):
    """One browser with one passkey provider (a synced one, like iCloud Keychain), on the
    live server's own origin; each step must succeed and answers its JSON."""

    def __init__(self, server: LiveServer) -> None:
        super().__init__(
            httpx.Client(base_url=server.url, timeout=10),
            server.tenant_id,
            origin=server.url,
            authenticator=SoftAuthenticator(
                aaguid=bytes.fromhex(ICLOUD_KEYCHAIN.replace("-", "")),
                backup_eligible=True,
                backup_state=True,
                transports=["internal", "hybrid"],
            ),
        )

    def close(self) -> None:
        self.http.close()

    def sign_up(self, token: str) -> dict[str, Any]:
        """`client.passkey.signUp({ token })`: the answer, plus the new passkey's id."""
        done = _ok(super().sign_up(token))
        # The id as the authenticator made it, not as the server reports it.
        newest = list(self.authenticator.credentials)[-1]
        return {**done, "credentialId": b64url(newest)}

    def sign_in(self, token: str | None = None, action: str | None = "sign-in") -> dict[str, Any]:
        """`client.passkey.signIn({ action })` with a discoverable passkey."""
        return _ok(super().sign_in(token, action))


def _ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
