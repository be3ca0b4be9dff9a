"""A native sign-up proves its e-mail address where the pool requires it (issue 21 item 1), on
SQLite and PostgreSQL, in Auth0's native passkey shape: the signup challenge mails a code and
says `verification_required: ["email"]`; the passkey grant issues tokens (and stores the
account) only with `verification: {"email": code}`; a missing or wrong code is a retryable
invalid_grant naming the auth_session. Someone typing another person's address gets no token
and blocks nobody; a sign-in to an account whose address was never proved is access_denied."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.event_kinds import POOL_EMAIL_VERIFIED
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps, pools
from latchkey.store.tables import events, recovery_codes, users
from tests.support.mail import Mail, mails
from tests.support.native import ANDROID_ORIGIN, GRANT, NativeApp, mobile_app, verified_claims
from tests.support.pools import count, make_pool

REALM = "customers"


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def app(rt: Runtime, tenant: Tenant) -> App:
    return mobile_app(rt, tenant)


def _pool(rt: Runtime, tenant: Tenant, mode: str) -> pools.Pool:
    return make_pool(rt, tenant, REALM, email_sender="login@example.com", email_verification=mode)


def _phone(client: TestClient, tenant: Tenant, app: App) -> NativeApp:
    """An Android phone with its own passkeys."""
    return NativeApp(client, tenant, app, ANDROID_ORIGIN)


def _challenge(phone: NativeApp, email: str) -> dict[str, Any]:
    begun = phone.post(
        "/passkey/register",
        {"client_id": phone.client_id, "realm": REALM, "user_profile": {"email": email}},
    )
    assert begun.status_code == 200, begun.text
    body: dict[str, Any] = begun.json()
    return body


def _create(phone: NativeApp, begun: dict[str, Any]) -> dict[str, Any]:
    return phone.authenticator.create(begun["authn_params_public_key"], origin=ANDROID_ORIGIN)


def _exchange(phone: NativeApp, begun: dict[str, Any], created: Any, **extra: Any) -> Any:
    return phone.token(begun["auth_session"], created, realm=REALM, scope="openid email", **extra)


def _sign_in(phone: NativeApp) -> Any:
    begun = phone.post("/passkey/challenge", {"client_id": phone.client_id, "realm": REALM})
    assert begun.status_code == 200, begun.text
    options = begun.json()["authn_params_public_key"]
    assertion = phone.authenticator.get(options, origin=ANDROID_ORIGIN)
    return phone.token(begun.json()["auth_session"], assertion, realm=REALM)


def _retry_asked(answer: Any, auth_session: str) -> None:
    """Auth0's retryable refusal: invalid_grant, the identifiers to prove, the session."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid_grant", body
    assert "(verification_required)" in body["error_description"]
    assert body["verification_required"] == ["email"]
    assert body["auth_session"] == auth_session


def _terminal(answer: Any, reason: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == "invalid_grant"
    assert f"({reason})" in body["error_description"]


def _confirmations(rt: Runtime, to: str) -> list[Mail]:
    return [m for m in mails(rt) if m.recipient == to and m.subject.startswith("Confirm")]


def _code(mail: Mail) -> str:
    marker = "Your code is "
    start = mail.text_body.index(marker) + len(marker)
    return mail.text_body[start : start + 6]


def test_the_owner_gets_the_code_types_it_and_gets_tokens(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "required")
    ada = _phone(client, tenant, app)
    begun = _challenge(ada, "Ada@Example.com")
    assert set(begun) == {"authn_params_public_key", "auth_session", "verification_required"}
    assert begun["verification_required"] == ["email"]
    (mail,) = _confirmations(rt, "ada@example.com")
    assert mail.sender == "login@example.com"
    assert "?token=" not in mail.text_body  # no link: the hosted page needs a browser's flow
    code = _code(mail)
    assert code.isdigit()
    assert code not in mail.stored_text  # sealed at rest
    created = _create(ada, begun)

    # No code, then a wrong one: asked again, nothing stored, the session still usable.
    _retry_asked(_exchange(ada, begun, created), begun["auth_session"])
    wrong = "000000" if code != "000000" else "111111"
    _retry_asked(
        _exchange(ada, begun, created, verification={"email": wrong}), begun["auth_session"]
    )
    assert count(rt, users) == 0

    # The right code, as a form (the Auth0 SDKs' encoding): tokens, the address proved.
    done = client.post(
        f"/t/{tenant.id}/oauth/token",
        data={
            "grant_type": GRANT,
            "client_id": app.client_id,
            "auth_session": begun["auth_session"],
            "authn_response": json.dumps(created),
            "verification": json.dumps({"email": code}),
            "realm": REALM,
            "scope": "openid email",
        },
    )
    assert done.status_code == 200, done.text
    claims = verified_claims(client, tenant, done.json()["id_token"], app.client_id)
    assert claims["email"] == "ada@example.com"
    assert claims["email_verified"] is True
    with rt.engine.connect() as conn:
        kinds = [
            (row.kind, row.detail.get("native"))
            for row in conn.execute(select(events.c.kind, events.c.detail))
        ]
    assert (POOL_EMAIL_VERIFIED, True) in kinds

    # The code worked once; the account signs in as usual.
    again = _exchange(ada, begun, created, verification={"email": code})
    _terminal(again, "flow_used")
    signed_in = _sign_in(ada)
    assert signed_in.status_code == 200, signed_in.text


def test_someone_elses_address_gets_no_token_and_blocks_nobody(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "required")
    mallory = _phone(client, tenant, app)
    begun = _challenge(mallory, "victim@example.com")
    created = _create(mallory, begun)

    # Another app cannot spend the session's guesses.
    other, _ = apps.create(rt, tenant.id, name="Other", grant_types=[GRANT])
    stolen = client.post(
        f"/t/{tenant.id}/oauth/token",
        json={
            "grant_type": GRANT,
            "client_id": other.client_id,
            "auth_session": begun["auth_session"],
            "authn_response": created,
            "realm": REALM,
            "verification": {"email": "123456"},
        },
    )
    _terminal(stolen, "auth_session_mismatch")

    # Mallory never sees the code: five guesses, then the session's code is spent.
    (mail,) = _confirmations(rt, "victim@example.com")
    code = _code(mail)
    guesses = [g for g in ("000000", "111111", "222222", "333333", "444444", "555555") if g != code]
    for guess in guesses[:5]:
        _retry_asked(
            _exchange(mallory, begun, created, verification={"email": guess}),
            begun["auth_session"],
        )
    # Even the right code is refused once the guesses are used up.
    spent = _exchange(mallory, begun, created, verification={"email": code})
    _terminal(spent, "recovery_attempts_exceeded")
    assert count(rt, users) == 0

    # The address's owner signs up with her own passkey: nothing of Mallory's is in the way.
    victim = _phone(client, tenant, app)
    hers = _challenge(victim, "victim@example.com")
    mine = _confirmations(rt, "victim@example.com")[-1]
    done = _exchange(victim, hers, _create(victim, hers), verification={"email": _code(mine)})
    assert done.status_code == 200, done.text
    assert count(rt, users) == 1
    # Mallory's passkey belongs to no account.
    _terminal(_sign_in(mallory), "credential_not_found")


def test_one_sessions_code_does_not_open_another(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "required")
    ada = _phone(client, tenant, app)
    first = _challenge(ada, "ada@example.com")
    code = _code(_confirmations(rt, "ada@example.com")[0])
    mallory = _phone(client, tenant, app)
    second = _challenge(mallory, "ada@example.com")
    own = _code(_confirmations(rt, "ada@example.com")[1])
    if own != code:
        _retry_asked(
            _exchange(mallory, second, _create(mallory, second), verification={"email": code}),
            second["auth_session"],
        )
    assert count(rt, users) == 0
    done = _exchange(ada, first, _create(ada, first), verification={"email": code})
    assert done.status_code == 200, done.text


def test_mails_to_one_address_are_bounded(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "required")
    phone = _phone(client, tenant, app)
    answers = [_challenge(phone, "ada@example.com") for _ in range(5)]
    # The same answer every time, but only three mails in the window.
    assert all(a["verification_required"] == ["email"] for a in answers)
    assert len(_confirmations(rt, "ada@example.com")) == 3
    # A session whose code was never mailed cannot be guessed into an account either.
    last = answers[-1]
    _retry_asked(
        _exchange(phone, last, _create(phone, last), verification={"email": "123456"}),
        last["auth_session"],
    )
    assert count(rt, recovery_codes) == 3


def test_optional_pool_keeps_the_plain_exchange(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "optional")
    ada = _phone(client, tenant, app)
    begun = _challenge(ada, "ada@example.com")
    assert set(begun) == {"authn_params_public_key", "auth_session"}
    done = _exchange(ada, begun, _create(ada, begun))
    assert done.status_code == 200, done.text
    claims = verified_claims(client, tenant, done.json()["id_token"], app.client_id)
    assert claims["email_verified"] is False
    assert mails(rt) == []


def test_required_pool_refuses_a_sign_in_to_an_unproved_address(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App
) -> None:
    _pool(rt, tenant, "optional")
    ada = _phone(client, tenant, app)
    begun = _challenge(ada, "ada@example.com")
    assert _exchange(ada, begun, _create(ada, begun)).status_code == 200
    pools.configure(rt, tenant.id, REALM, {"email_verification": "required"})
    refused = _sign_in(ada)
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["error"] == "access_denied"
    assert "(email_unverified)" in body["error_description"]
    assert "access_token" not in body
