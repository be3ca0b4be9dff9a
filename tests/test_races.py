"""One-time secrets under races: each used by 50 concurrent HTTP requests against a real server
(SQLite and PostgreSQL): exactly one succeeds, every other gets the documented error, and the
database shows exactly one effect."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import threading
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from latchkey.services.mail_queue import text_of
from latchkey.store.engine import make_engine
from latchkey.store.tables import (
    apps,
    authorization_codes,
    credentials,
    events,
    mail_outbox,
    refresh_tokens,
    tokens,
)
from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import create_tenant, free_port, serving
from tests.support.database import postgres_schema

ORIGIN = "http://localhost:5002"
MASTER_KEY = urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
RACERS = 50


@dataclass
class Served:
    url: str
    database_url: str
    tenant_id: str
    secret: str

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "latchkey.cli", *args],
            env={"LATCHKEY_DATABASE_URL": self.database_url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    def count(self, table: Any, *where: Any) -> int:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                query = select(func.count()).select_from(table)
                return int(conn.execute(query.where(*where) if where else query).scalar_one())
        finally:
            engine.dispose()

    def rows(self, query: Any) -> list[Any]:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(query))
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('races') / 'races.db'}"
        yield from _serve(url)
    else:
        with postgres_schema() as url:
            yield from _serve(url)


def _serve(database_url: str) -> Iterator[Served]:
    tenant = create_tenant(database_url, [ORIGIN])
    port = free_port()
    # Mail stays in the outbox, where the test reads the recovery code.
    env = {
        "LATCHKEY_MAIL_MODE": "off",
        "LATCHKEY_CHALLENGE_RATE_LIMIT": "100000/60",
        "LATCHKEY_MASTER_KEY": MASTER_KEY,
    }
    with serving(database_url, port, env):
        yield Served(f"http://127.0.0.1:{port}", database_url, tenant["id"], tenant["secret_key"])


def race(call: Callable[..., httpx.Response], n: int = RACERS) -> list[httpx.Response]:
    """`n` threads, each with its own connection, released at the same moment; `call` gets the
    client and, when it takes two arguments, the thread's index."""
    barrier = threading.Barrier(n)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    clients = [httpx.Client(timeout=60) for _ in range(n)]

    def run(client: httpx.Client, index: int) -> None:
        barrier.wait()
        answer = call(client, index) if call.__code__.co_argcount == 2 else call(client)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return answers


def outcomes(answers: list[httpx.Response], code: Callable[[dict[str, Any]], str]) -> Counter[str]:
    return Counter(
        "ok" if a.status_code == 200 else f"{a.status_code} {code(a.json())}" for a in answers
    )


def v1_code(body: dict[str, Any]) -> str:
    return str(body.get("errorCode"))


class Web:
    def __init__(self, served: Served) -> None:
        self.served = served
        self.http = httpx.Client(base_url=f"{served.url}/v1", timeout=30)
        secret = base64.b64encode(f"{served.secret}:".encode()).decode()
        self.backend = {"authorization": f"Basic {secret}"}
        self.browser = {
            "authorization": "Basic " + base64.b64encode(served.tenant_id.encode()).decode()
        }
        self.authenticator = SoftAuthenticator()

    def track(self, user_id: str) -> str:
        answer = self.http.post(
            f"/users/{user_id}/actions/add-passkey", json={}, headers=self.backend
        )
        return str(answer.json()["token"])

    def registration(self, user_id: str) -> tuple[dict[str, str], dict[str, Any]]:
        bearer = {"authorization": f"Bearer {self.track(user_id)}"}
        begun = self.http.post(
            "/client/user-authenticators/passkey/registration-options", json={}, headers=bearer
        )
        created = self.authenticator.create(begun.json()["options"], origin=ORIGIN)
        return bearer, {
            "registrationCredential": created,
            "challengeId": begun.json()["challengeId"],
        }

    def sign_up(self, user_id: str) -> None:
        bearer, body = self.registration(user_id)
        done = self.http.post("/client/user-authenticators/passkey", json=body, headers=bearer)
        assert done.status_code == 200, done.text

    def assertion(self) -> dict[str, Any]:
        begun = self.http.post(
            "/client/user-authenticators/passkey/authentication-options",
            json={},
            headers=self.browser,
        )
        made = self.authenticator.get(begun.json()["options"], origin=ORIGIN)
        return {"authenticationCredential": made, "challengeId": begun.json()["challengeId"]}


def test_a_sign_in_challenge(served: Served) -> None:
    web = Web(served)
    web.sign_up("racer-sign-in")
    body = web.assertion()
    before = served.count(tokens)
    answers = race(
        lambda c: c.post(f"{served.url}/v1/client/verify/passkey", json=body, headers=web.browser)
    )
    assert outcomes(answers, v1_code) == Counter({"ok": 1, "400 challenge_used": RACERS - 1})
    assert served.count(tokens) == before + 1  # one result token issued


def test_a_result_token_at_validate(served: Served) -> None:
    web = Web(served)
    web.sign_up("racer-validate")
    verified = web.http.post("/client/verify/passkey", json=web.assertion(), headers=web.browser)
    token = verified.json()["accessToken"]
    answers = race(
        lambda c: c.post(f"{served.url}/v1/validate", json={"token": token}, headers=web.backend)
    )
    assert all(a.status_code == 200 for a in answers)
    assert Counter(a.json()["isValid"] for a in answers) == Counter({True: 1, False: RACERS - 1})


def test_a_registration_challenge_and_one_credential_id(served: Served) -> None:
    web = Web(served)
    bearer, body = web.registration("racer-register")
    answers = race(
        lambda c: c.post(
            f"{served.url}/v1/client/user-authenticators/passkey", json=body, headers=bearer
        )
    )
    counted = outcomes(answers, v1_code)
    assert counted["ok"] == 1, counted
    # A racer arriving after the winner finds its token's action done (403 action_closed).
    allowed = {"ok", "400 challenge_used", "401 invalid_token", "403 action_closed"}
    assert set(counted) <= allowed, counted
    credential_id = base64.urlsafe_b64decode(body["registrationCredential"]["rawId"] + "==")
    assert served.count(credentials, credentials.c.credential_id == credential_id) == 1


def test_two_registrations_of_one_credential_id(served: Served) -> None:
    """Two users' registrations, raced, carrying the same credential id: one row."""
    web = Web(served)
    shared = secrets.token_bytes(32)
    bodies = []
    for user in ("twin-a", "twin-b"):
        bearer = {"authorization": f"Bearer {web.track(user)}"}
        begun = web.http.post(
            "/client/user-authenticators/passkey/registration-options", json={}, headers=bearer
        )
        created = SoftAuthenticator().create(
            begun.json()["options"], origin=ORIGIN, credential_id=shared
        )
        body = {"registrationCredential": created, "challengeId": begun.json()["challengeId"]}
        bodies.append((bearer, body))
    url = f"{served.url}/v1/client/user-authenticators/passkey"
    answers = race(lambda c, i: c.post(url, json=bodies[i][1], headers=bodies[i][0]), n=2)
    assert outcomes(answers, v1_code) == Counter({"ok": 1, "409 credential_exists": 1})
    assert served.count(credentials, credentials.c.credential_id == shared) == 1


def test_a_native_auth_session(served: Served) -> None:
    made = json.loads(
        served.cli(
            "app", "create", served.tenant_id, "--name", "Racer", "--grant",
            "urn:okta:params:oauth:grant-type:webauthn", "--grant", "refresh_token", "--json",
        )
    )  # fmt: skip
    http = httpx.Client(base_url=f"{served.url}/t/{served.tenant_id}", timeout=30)
    begun = http.post(
        "/passkey/register",
        json={"client_id": made["client_id"], "user_profile": {"email": "race@example.com"}},
    )
    assert begun.status_code == 200, begun.text
    created = SoftAuthenticator().create(begun.json()["authn_params_public_key"], origin=ORIGIN)
    body = {
        "grant_type": "urn:okta:params:oauth:grant-type:webauthn",
        "client_id": made["client_id"],
        "auth_session": begun.json()["auth_session"],
        "authn_response": created,
        "scope": "openid offline_access",
    }
    answers = race(lambda c: c.post(f"{served.url}/t/{served.tenant_id}/oauth/token", json=body))
    assert outcomes(answers, lambda b: b["error"]) == Counter(
        {"ok": 1, "400 invalid_grant": RACERS - 1}
    )
    refresh = next(a for a in answers if a.status_code == 200).json()["refresh_token"]

    # The refresh token, raced: one rotation; the reuse that follows revokes the family.
    before = served.count(refresh_tokens)
    grant = {
        "grant_type": "refresh_token",
        "client_id": made["client_id"],
        "refresh_token": refresh,
    }
    answers = race(lambda c: c.post(f"{served.url}/t/{served.tenant_id}/oauth/token", json=grant))
    assert outcomes(answers, lambda b: b["error"]) == Counter(
        {"ok": 1, "400 invalid_grant": RACERS - 1}
    )
    assert served.count(refresh_tokens) == before + 1


def test_a_recovery_code(served: Served) -> None:
    served.cli("directory", "create", served.tenant_id, "racers", "--identifier", "email=required")
    served.cli("pool", "configure", served.tenant_id, "racers", "--bot-check", "off")
    base = f"{served.url}/{served.tenant_id}/identity/racers"
    member = httpx.Client(base_url=base, timeout=30)
    authenticator = SoftAuthenticator()
    begun = member.post("/register/webauthn/begin", json={"identifier": "ada@example.com"})
    made = authenticator.create(begun.json()["publicKey"], origin=ORIGIN)
    assert member.post("/register/webauthn/finish", json=made).status_code == 200
    started = member.post("/recovery/begin", json={"identifier": "ada@example.com"})
    cookie = started.cookies["latchkey_flow"]
    # The newest mail: sign-up sent one first, to prove the address (issue 21 item 1).
    [mail] = served.rows(
        select(mail_outbox.c.id, mail_outbox.c.text_body)
        .where(mail_outbox.c.recipient == "ada@example.com")
        .order_by(mail_outbox.c.created_at.desc())
        .limit(1)
    )
    key = urlsafe_b64decode(MASTER_KEY + "=")
    code = re.search(r"Your code is (\d{6})", text_of(key, mail.id, mail.text_body))
    assert code
    answers = race(
        lambda c: c.post(
            f"{base}/recovery/verify",
            json={"code": code.group(1)},
            headers={"cookie": f"latchkey_flow={cookie}"},
        )
    )
    counted = outcomes(answers, lambda b: b["error_code"])
    assert counted["ok"] == 1, counted
    assert set(counted) <= {"ok", "400 flow_used", "429 recovery_attempts_exceeded"}, counted
    # The losers are failure events (operators see refused codes); one recovery succeeded.
    recovered = served.count(
        events, (events.c.kind == "pool.recovered") & (events.c.outcome == "success")
    )
    assert recovered == 1


def test_an_authorization_code(served: Served) -> None:
    """OIDC: a code exchanged 50 times at once gives tokens once; the replays that lost the race
    revoke the refresh token the winner got (RFC 6749 §4.1.2)."""
    callback = "https://portal.example/callback"
    made = json.loads(
        served.cli(
            "app", "create", served.tenant_id, "--name", "Portal", "--type", "regular_web",
            "--redirect-uri", callback, "--grant", "authorization_code",
            "--grant", "refresh_token", "--json",
        )
    )  # fmt: skip
    served.cli("directory", "create", served.tenant_id, "portal", "--identifier", "email=required")
    served.cli("pool", "configure", served.tenant_id, "portal", "--bot-check", "off")
    browser = httpx.Client(base_url=served.url, timeout=30)
    pages = f"/{served.tenant_id}/identity/portal"
    begun = browser.post(
        f"{pages}/register/webauthn/begin", json={"identifier": "oidc@example.com"}
    )
    made_key = SoftAuthenticator().create(begun.json()["publicKey"], origin=ORIGIN)
    assert browser.post(f"{pages}/register/webauthn/finish", json=made_key).status_code == 200

    verifier = secrets.token_urlsafe(48)
    challenge = urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    authorized = browser.get(
        f"/t/{served.tenant_id}/authorize",
        params={
            "response_type": "code",
            "client_id": made["client_id"],
            "redirect_uri": callback,
            "scope": "openid offline_access",
            "state": "race",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "pool": "portal",
        },
    )
    assert authorized.status_code == 302, authorized.text
    code = re.search(r"[?&]code=([^&]+)", authorized.headers["location"])
    assert code
    form = {
        "grant_type": "authorization_code",
        "code": code.group(1),
        "redirect_uri": callback,
        "client_id": made["client_id"],
        "code_verifier": verifier,
    }
    answers = race(lambda c: c.post(f"{served.url}/t/{served.tenant_id}/oauth/token", data=form))
    assert outcomes(answers, lambda b: b["error"]) == Counter(
        {"ok": 1, "400 invalid_grant": RACERS - 1}
    )
    [issued] = served.rows(
        select(refresh_tokens.c.revoked_at)
        .join(apps, apps.c.id == refresh_tokens.c.app_id)
        .where(apps.c.client_id == made["client_id"])
    )
    assert issued.revoked_at is not None
    assert served.count(authorization_codes, authorization_codes.c.used_at.is_not(None)) == 1
