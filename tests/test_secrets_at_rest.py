"""Secrets at rest and in logs: after a run through every flow that issues one (API key, client
secret, action and result tokens, access and refresh tokens, flow and session cookies, recovery
code and link, a password, OIDC codes and their tokens, an operator token, a webhook secret,
the master key), the whole database holds none of them in clear and
the server's log (at debug level) names none of them. Signing keys are stored sealed."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from latchkey.store.engine import make_engine
from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import create_tenant, free_port, serving
from tests.smtp_mailbox import Mailbox, running_mailbox
from tests.support.database import postgres_schema

ORIGIN = "http://localhost:5002"
MASTER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
PASSKEY_GRANT = "urn:okta:params:oauth:grant-type:webauthn"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'secrets.db'}"
    else:
        with postgres_schema() as url:
            yield url


def cli(database_url: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", *args],
        env={"LATCHKEY_DATABASE_URL": database_url, "LATCHKEY_MASTER_KEY": MASTER_KEY},
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def issue_everything(
    url: str, database_url: str, tenant: dict[str, str], box: Mailbox
) -> list[str]:
    """Drive every flow that hands out a secret; return the secrets."""
    issued = [tenant["secret_key"], MASTER_KEY]
    http = httpx.Client(base_url=url, timeout=30)
    secret = base64.b64encode(f"{tenant['secret_key']}:".encode()).decode()
    backend = {"authorization": f"Basic {secret}"}
    browser = {"authorization": "Basic " + base64.b64encode(tenant["id"].encode()).decode()}
    authenticator = SoftAuthenticator()

    # The web flow: an action token, a passkey, a result token validated once.
    action_token = http.post("/v1/users/u1/actions/add-passkey", json={}, headers=backend).json()[
        "token"
    ]
    bearer = {"authorization": f"Bearer {action_token}"}
    begun = http.post(
        "/v1/client/user-authenticators/passkey/registration-options", json={}, headers=bearer
    ).json()
    created = authenticator.create(begun["options"], origin=ORIGIN)
    added = http.post(
        "/v1/client/user-authenticators/passkey",
        json={"registrationCredential": created, "challengeId": begun["challengeId"]},
        headers=bearer,
    )
    begun = http.post(
        "/v1/client/user-authenticators/passkey/authentication-options", json={}, headers=browser
    ).json()
    verified = http.post(
        "/v1/client/verify/passkey",
        json={
            "authenticationCredential": authenticator.get(begun["options"], origin=ORIGIN),
            "challengeId": begun["challengeId"],
        },
        headers=browser,
    ).json()
    assert http.post(
        "/v1/validate", json={"token": verified["accessToken"]}, headers=backend
    ).json()["isValid"]
    issued += [action_token, added.json()["accessToken"], verified["accessToken"]]

    # A confidential native app: a client secret, access, ID and refresh tokens, a rotation.
    made = json.loads(
        cli(
            database_url,
            "app",
            "create",
            tenant["id"],
            "--name",
            "App",
            "--confidential",
            "--grant",
            PASSKEY_GRANT,
            "--grant",
            "refresh_token",
            "--json",
        )
    )
    app = {"client_id": made["client_id"], "client_secret": made["client_secret"]}
    begun = http.post(
        f"/t/{tenant['id']}/passkey/register",
        json={**app, "user_profile": {"email": "n@example.com"}},
    ).json()
    tokens = http.post(
        f"/t/{tenant['id']}/oauth/token",
        json={
            **app,
            "grant_type": PASSKEY_GRANT,
            "auth_session": begun["auth_session"],
            "scope": "openid offline_access",
            "authn_response": SoftAuthenticator().create(
                begun["authn_params_public_key"], origin=ORIGIN
            ),
        },
    ).json()
    rotated = http.post(
        f"/t/{tenant['id']}/oauth/token",
        json={**app, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    ).json()
    issued += [
        made["client_secret"],
        tokens["access_token"],
        tokens["refresh_token"],
        rotated["refresh_token"],
        rotated["access_token"],
    ]

    # A pool: flow and SSO cookies, a password, a recovery code and link.
    cli(
        database_url,
        "directory",
        "create",
        tenant["id"],
        "people",
        "--identifier",
        "email=required",
    )
    cli(
        database_url,
        "pool",
        "configure",
        tenant["id"],
        "people",
        "--bot-check",
        "off",
        "--password",
        "on",
    )
    pool = httpx.Client(base_url=f"{url}/{tenant['id']}/identity/people", timeout=30)
    begun = pool.post("/register/webauthn/begin", json={"identifier": "p@example.com"})
    issued.append(begun.cookies["latchkey_flow"])
    done = pool.post(
        "/register/webauthn/finish",
        json=SoftAuthenticator().create(begun.json()["publicKey"], origin=ORIGIN),
    )
    issued.append(done.cookies[f"latchkey_sso_{tenant['id']}"])
    issued += oidc_and_operator_secrets(url, database_url, tenant, pool)
    password = "correct horse battery staple"
    cli(
        database_url,
        "pool",
        "set-password",
        tenant["id"],
        "people",
        "p@example.com",
        stdin=password + "\n",
    )
    assert (
        pool.post(
            "/login/password", json={"identifier": "p@example.com", "password": password}
        ).status_code
        == 200
    )
    issued.append(password)
    assert pool.post("/recovery/begin", json={"identifier": "p@example.com"}).status_code == 200
    body = box.wait_for("p@example.com").get_payload(decode=True).decode()  # type: ignore[union-attr]
    code = re.search(r"Your code is (\d{6})", body)
    link = re.search(r"token=([A-Za-z0-9_-]+)", body)
    assert code
    assert link
    issued += [link.group(1), f"code is {code.group(1)}"]
    return issued


def oidc_and_operator_secrets(
    url: str, database_url: str, tenant: dict[str, str], browser: httpx.Client
) -> list[str]:
    """A confidential OIDC app's secret, a code, its PKCE verifier and tokens (the browser is
    signed in to the pool); an operator token; a webhook endpoint's secret."""
    callback = "https://portal.example/callback"
    made = json.loads(
        cli(
            database_url, "app", "create", tenant["id"], "--name", "Portal", "--type",
            "regular_web", "--confidential", "--redirect-uri", callback,
            "--grant", "authorization_code", "--grant", "refresh_token", "--json",
        )
    )  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    authorized = browser.get(
        f"{url}/t/{tenant['id']}/authorize",
        params={
            "response_type": "code",
            "client_id": made["client_id"],
            "redirect_uri": callback,
            "scope": "openid email offline_access",
            "code_challenge": base64.urlsafe_b64encode(digest).decode().rstrip("="),
            "code_challenge_method": "S256",
            "pool": "people",
        },
    )
    code = re.search(r"[?&]code=([^&]+)", authorized.headers["location"])
    assert code, authorized.text
    tokens = httpx.post(
        f"{url}/t/{tenant['id']}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        auth=(made["client_id"], made["client_secret"]),
    ).json()
    operator = cli(database_url, "admin", "token", "create", "--tenant", tenant["id"], "--json")
    # Disabled: the worker sends nothing, yet the secret is stored (sealed).
    hook = cli(
        database_url, "webhook", "create", tenant["id"], "--url", "https://hooks.example/in",
        "--enabled", "off", "--json",
    )  # fmt: skip
    return [
        made["client_secret"],
        code.group(1),
        verifier,
        tokens["access_token"],
        tokens["id_token"],
        tokens["refresh_token"],
        json.loads(operator)["secret"],
        json.loads(hook)["secret"],
    ]


def database_text(database_url: str) -> list[tuple[str, str, str]]:
    """Every value of every column of every table, as (table, column, text)."""
    engine = make_engine(database_url)
    found: list[tuple[str, str, str]] = []
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    for column, value in row._mapping.items():
                        found.append((table.name, column, _text(value)))
    finally:
        engine.dispose()
    return found


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return (
            raw.decode("latin-1") + " " + raw.hex() + " " + base64.urlsafe_b64encode(raw).decode()
        )
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def test_no_secret_in_the_database_or_the_log(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    tenant = create_tenant(database_url, [ORIGIN])
    port = free_port()
    with running_mailbox() as box:
        env = {**box.smtp_env(), "LATCHKEY_MASTER_KEY": MASTER_KEY, "LATCHKEY_LOG_LEVEL": "debug"}
        # The access log too: it must write none of the secrets in URLs (codes, link tokens).
        env["LATCHKEY_ACCESS_LOG"] = "on"
        with serving(database_url, port, env, log=log):
            issued = issue_everything(f"http://127.0.0.1:{port}", database_url, tenant, box)
            box.wait_for("p@example.com")
    assert len(issued) == 23

    stored = database_text(database_url)
    assert len(stored) > 100  # the run really wrote
    in_clear = [(t, c) for t, c, text in stored for s in issued if s in text]
    assert in_clear == [], in_clear
    # Signing keys: sealed, never a private key in PEM or JWK form.
    assert not [t for t, _, text in stored if "PRIVATE KEY" in text or '"d":' in text]

    logged = log.read_text()
    assert "sent (attempt 1)" in logged  # the log was captured (the mail worker wrote to it)
    assert '/authorize?…" 302' in logged  # and the access log, URLs with secrets included
    leaked = [s[:12] + "..." for s in issued if s in logged]
    assert leaked == [], leaked
