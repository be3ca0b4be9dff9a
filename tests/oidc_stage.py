"""A live Latchkey for independent OAuth / OpenID Connect clients: a `latchkey serve` process, a
public and a confidential app made with the CLI, a user signed up on the hosted pages with the
software authenticator, and the browser's part of the code flow (the hosted sign-in with that
passkey) driven over HTTP, so each client library runs unmodified on its side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import LiveServer, live_server

PASSKEY_GRANT = "urn:okta:params:oauth:grant-type:webauthn"
CALLBACK = "http://localhost:8765/callback"  # never fetched: the test reads the redirect
API = "https://api.example.com"
EMAIL = "ada@example.com"


@dataclass(frozen=True)
class Stage:
    server: LiveServer
    public_id: str  # a public client: PKCE, no secret; the passkey grant too
    confidential_id: str
    confidential_secret: str
    authenticator: SoftAuthenticator

    @property
    def issuer(self) -> str:
        return f"{self.server.url}/t/{self.server.tenant_id}/"

    def browser(self) -> httpx.Client:
        # The pool endpoints take state-changing calls from the tenant's own origin only.
        return httpx.Client(headers={"origin": self.server.url}, timeout=30)

    def sign_in(self, authorize_url: str) -> str:
        """A browser at `authorize_url`: the hosted sign-in with the passkey when there is no
        session, then back to the app. Returns the callback URL with the code."""
        with self.browser() as http:
            answer = http.get(authorize_url)
            assert answer.status_code == 302, answer.text
            location = answer.headers["location"]
            if location.startswith(CALLBACK):
                return location
            pages, _, query = location.partition("/signin?")
            flow = parse_qs(query)["flow"][0]
            base = f"{self.server.url}{pages}"
            begun = http.post(f"{base}/login/webauthn/options", json={"flow_id": flow})
            assert begun.status_code == 200, begun.text
            assertion = self.authenticator.get(begun.json()["publicKey"], origin=self.server.url)
            done = http.post(f"{base}/login/webauthn/finish", json=assertion, params={"flow": flow})
            assert done.status_code == 200, done.text
            back = http.get(f"{self.server.url}{done.json()['redirect_to']}")
            assert back.status_code == 302, back.text
            callback = back.headers["location"]
            assert callback.startswith(CALLBACK), callback
            return str(callback)


def _app(server: LiveServer, *args: str) -> dict[str, str]:
    common = ["--type", "regular_web", "--json", "--redirect-uri", CALLBACK, "--audience", API]
    grants = ["--grant", "authorization_code", "--grant", "refresh_token"]
    made: dict[str, str] = json.loads(
        server.cli("app", "create", server.tenant_id, *common, *grants, *args)
    )
    return made


def _sign_up(server: LiveServer, authenticator: SoftAuthenticator) -> None:
    """The user's passkey, made on the default pool's hosted sign-up (no session is kept)."""
    pool = json.loads(server.cli("pool", "show", server.tenant_id, "default"))
    base = f"{server.url}/{server.tenant_id}/identity/{pool['id']}"
    with httpx.Client(headers={"origin": server.url}, timeout=30) as http:
        begun = http.post(f"{base}/register/webauthn/begin", json={"identifier": EMAIL})
        assert begun.status_code == 200, begun.text
        created = authenticator.create(begun.json()["publicKey"], origin=server.url)
        done = http.post(f"{base}/register/webauthn/finish", json=created)
        assert done.status_code == 200, done.text


@contextmanager
def stage(tmp_path: Path) -> Iterator[Stage]:
    with live_server(tmp_path) as server:
        server.cli("pool", "configure", server.tenant_id, "default", "--bot-check", "off")
        public = _app(server, "--name", "Public", "--grant", PASSKEY_GRANT)
        confidential = _app(server, "--name", "Confidential", "--confidential")
        authenticator = SoftAuthenticator(backup_eligible=True, backup_state=True)
        _sign_up(server, authenticator)
        yield Stage(
            server,
            public["client_id"],
            confidential["client_id"],
            confidential["client_secret"],
            authenticator,
        )


def callback_query(callback: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
