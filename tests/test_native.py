"""Native-app passkeys over HTTP: signup and login challenges, the passkey token grant as the
Auth0 mobile SDKs send it, tokens checked with PyJWT against the published JWKS, refresh, and
every error in the OAuth shape with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, directories
from latchkey.store.tables import user_identifiers
from tests.ceremony_client import row_counts
from tests.support.native import ANDROID_ORIGIN, GRANT, NativeApp, mobile_app
from tests.support.native import verified_claims as _verified


@pytest.fixture
def app(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> App:
    return mobile_app(rt, tenant_and_secret[0])


@pytest.fixture
def android(client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App) -> NativeApp:
    return NativeApp(client, tenant_and_secret[0], app, ANDROID_ORIGIN)


def _oauth_error(answer: Any, status: int, error: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert body["error_description"]


def test_signup_then_login_on_android(
    android: NativeApp, client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App
) -> None:
    tenant = tenant_and_secret[0]
    begun = android.signup_challenge(email="Ada@Example.com", name="Ada")
    options = begun.json()["authn_params_public_key"]
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == "ada@example.com"
    assert options["authenticatorSelection"]["residentKey"]
    signed_up = android.token(
        begun.json()["auth_session"],
        android.authenticator.create(options, origin=ANDROID_ORIGIN),
        scope="openid profile email",  # the Auth0 SDKs' default, less offline_access
    )
    assert signed_up.status_code == 200, signed_up.text
    tokens = signed_up.json()
    assert tokens["token_type"] == "Bearer"
    assert signed_up.headers["cache-control"] == "no-store"
    assert "refresh_token" not in tokens  # no offline_access
    claims = _verified(client, tenant, tokens["id_token"], app.client_id)
    assert claims["email"] == "ada@example.com"
    assert claims["name"] == "Ada"
    assert claims["amr"] == ["webauthn", "swk"]  # a synced passkey
    assert claims["iss"] == f"http://localhost:8000/t/{tenant.id}/"

    signed_in = android.sign_in(scope="openid offline_access")
    assert signed_in.status_code == 200, signed_in.text
    again = _verified(client, tenant, signed_in.json()["id_token"], app.client_id)
    assert again["sub"] == claims["sub"]
    info = client.get(
        f"/t/{tenant.id}/userinfo",
        headers={"authorization": f"Bearer {signed_in.json()['access_token']}"},
    )
    # Claims follow the scope (OIDC Core §5.4): this sign-in asked for no email or profile.
    assert info.json() == {"sub": claims["sub"]}
    assert "email" not in again

    refreshed = android.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "refresh_token": signed_in.json()["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    reused = android.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "refresh_token": signed_in.json()["refresh_token"],
        },
    )
    _oauth_error(reused, 400, "invalid_grant")


def test_token_request_as_a_form(android: NativeApp, app: App) -> None:
    import json

    begun = android.signup_challenge(email="form@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    answer = android.http.post(
        f"{android.base}/oauth/token",
        data={
            "grant_type": GRANT,
            "client_id": app.client_id,
            "auth_session": begun.json()["auth_session"],
            "authn_response": json.dumps(created),
        },
    )
    assert answer.status_code == 200, answer.text


def test_ios_style_web_origin(
    client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App
) -> None:
    ios = NativeApp(client, tenant_and_secret[0], app, "http://localhost:5002")
    assert ios.sign_up("ios@example.com").status_code == 200
    assert ios.sign_in().status_code == 200


def test_replayed_auth_session(android: NativeApp, rt: Runtime) -> None:
    begun = android.signup_challenge(email="r@example.com")
    session = begun.json()["auth_session"]
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    assert android.token(session, created).status_code == 200
    before = row_counts(rt.engine)
    _oauth_error(android.token(session, created), 400, "invalid_grant")
    assert row_counts(rt.engine)["credentials"] == before["credentials"]


def test_auth_session_of_another_app_or_realm(
    android: NativeApp, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    other, _ = apps.create(rt, tenant.id, name="Other", grant_types=[GRANT])
    begun = android.signup_challenge(email="x@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    before = row_counts(rt.engine)
    stolen = android.post(
        "/oauth/token",
        {
            "grant_type": GRANT,
            "client_id": other.client_id,
            "auth_session": begun.json()["auth_session"],
            "authn_response": created,
        },
    )
    _oauth_error(stolen, 400, "invalid_grant")
    assert row_counts(rt.engine)["users"] == before["users"]
    directories.create(rt, tenant.id, "staff", {"email": "required"})
    begun = android.signup_challenge(email="y@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    wrong_realm = android.token(begun.json()["auth_session"], created, realm="staff")
    _oauth_error(wrong_realm, 400, "invalid_grant")
    assert row_counts(rt.engine)["users"] == before["users"]


def test_grant_not_enabled(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    plain, _ = apps.create(rt, tenant_and_secret[0].id, name="Plain")
    answer = client.post(
        f"/t/{tenant_and_secret[0].id}/passkey/register",
        json={"client_id": plain.client_id, "user_profile": {"email": "p@example.com"}},
    )
    _oauth_error(answer, 400, "unauthorized_client")


def test_confidential_app_needs_its_secret(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    web, secret = apps.create(
        rt, tenant.id, name="Web", app_type="regular_web", confidential=True, grant_types=[GRANT]
    )
    body = {"client_id": web.client_id, "user_profile": {"email": "c@example.com"}}
    _oauth_error(client.post(f"/t/{tenant.id}/passkey/register", json=body), 401, "invalid_client")
    wrong = {**body, "client_secret": "lk_cs_wrong"}
    _oauth_error(client.post(f"/t/{tenant.id}/passkey/register", json=wrong), 401, "invalid_client")
    right = {**body, "client_secret": secret}
    assert client.post(f"/t/{tenant.id}/passkey/register", json=right).status_code == 200


def test_app_of_another_tenant(
    client: TestClient, rt: Runtime, app: App, tenant_and_secret: tuple[Tenant, str]
) -> None:
    from latchkey.services import tenants

    other, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:5002"])
    answer = client.post(f"/t/{other.id}/passkey/challenge", json={"client_id": app.client_id})
    _oauth_error(answer, 401, "invalid_client")


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ({"email": "not-an-address"}, "email"),
        ({}, "required"),
        ({"email": "a@example.com", "shoe_size": "42"}, "unknown"),
        ({"email": "a@example.com", "phone_number": 14155552671}, "phone_number"),
        ({"email": "a@example.com", "picture": "x" * 2049}, "picture"),
    ],
)
def test_bad_profiles(
    android: NativeApp, rt: Runtime, profile: dict[str, Any], reason: str
) -> None:
    before = row_counts(rt.engine)
    answer = android.post(
        "/passkey/register", {"client_id": android.client_id, "user_profile": profile}
    )
    _oauth_error(answer, 400, "invalid_request")
    assert reason in answer.json()["error_description"]
    assert row_counts(rt.engine) == before


def test_every_profile_field_a_mobile_sdk_sends_is_accepted(
    android: NativeApp,
    client: TestClient,
    rt: Runtime,
    tenant_and_secret: tuple[Tenant, str],
    app: App,
) -> None:
    """Auth0.Android / Auth0.swift signup profiles: the directory's identifiers (email here)
    are validated and claimed; phone_number and username, which it does not use, and the
    name fields are kept as profile claims (18.11)."""
    profile = {
        "email": "Ada@Example.com",
        "phone_number": "+1 415 555 2671",
        "username": "ada",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "nickname": "countess",
        "picture": "https://example.com/ada.png",
    }
    begun = android.signup_challenge(**profile)
    assert begun.status_code == 200, begun.text
    options = begun.json()["authn_params_public_key"]
    assert options["user"]["name"] == "ada@example.com"  # the directory's identifier
    answer = android.token(
        begun.json()["auth_session"],
        android.authenticator.create(options, origin=ANDROID_ORIGIN),
        scope="openid profile email phone",
    )
    assert answer.status_code == 200, answer.text
    claims = _verified(client, tenant_and_secret[0], answer.json()["id_token"], app.client_id)
    assert claims["email"] == "ada@example.com"
    assert claims["phone_number"] == "+1 415 555 2671"  # kept as typed: not an identifier
    assert claims["preferred_username"] == "ada"
    for name in ("name", "given_name", "family_name", "nickname", "picture"):
        assert claims[name] == profile[name]
    # Only the email is an identifier (unique, used for sign-in); the rest is profile.
    with rt.engine.connect() as conn:
        claimed = conn.execute(select(user_identifiers.c.kind, user_identifiers.c.value)).all()
    assert claimed == [("email", "ada@example.com")]


def test_phone_directory(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str], app: App
) -> None:
    tenant = tenant_and_secret[0]
    directories.create(rt, tenant.id, "phones", {"phone_number": "required"})
    base = f"/t/{tenant.id}/passkey/register"
    bad = {"client_id": app.client_id, "realm": "phones", "user_profile": {"phone_number": "555"}}
    _oauth_error(client.post(base, json=bad), 400, "invalid_request")
    good = {**bad, "user_profile": {"phone_number": "+1 415 555 2671"}}
    answer = client.post(base, json=good)
    assert answer.status_code == 200
    assert answer.json()["authn_params_public_key"]["user"]["name"] == "+14155552671"


def test_duplicate_identifier_is_refused(android: NativeApp, rt: Runtime) -> None:
    assert android.sign_up("dup@example.com").status_code == 200
    _oauth_error(android.signup_challenge(email="DUP@example.com"), 400, "invalid_request")
    # A second signup that raced past the challenge check loses at the token step.
    second = NativeApp(android.http, *_parts(android, rt))
    begun = second.signup_challenge(email="race@example.com")
    racer = second.signup_challenge(email="race@example.com")
    first_done = second.token(
        begun.json()["auth_session"],
        second.authenticator.create(begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN),
    )
    assert first_done.status_code == 200
    before = row_counts(rt.engine)
    lost = second.token(
        racer.json()["auth_session"],
        second.authenticator.create(racer.json()["authn_params_public_key"], origin=ANDROID_ORIGIN),
    )
    _oauth_error(lost, 400, "invalid_grant")
    assert "identifier_taken" in lost.json()["error_description"]
    assert row_counts(rt.engine)["users"] == before["users"]


def _parts(android: NativeApp, rt: Runtime) -> tuple[Tenant, App, str]:
    from latchkey.services import tenants

    tenant = tenants.get(rt, android.base.removeprefix("/t/"))
    return tenant, apps.get(rt, android.client_id), ANDROID_ORIGIN


def test_unknown_origin_is_refused(android: NativeApp, rt: Runtime) -> None:
    android.origin = app_origins.android_origin("AB:" * 31 + "AB")
    before = row_counts(rt.engine)
    _oauth_error(android.sign_up("o@example.com"), 400, "invalid_grant")
    assert row_counts(rt.engine)["users"] == before["users"]


def test_browser_challenge_is_not_an_auth_session(
    android: NativeApp, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    import base64

    tenant = tenant_and_secret[0]
    basic = "Basic " + base64.b64encode(tenant.id.encode()).decode()
    begun = client.post(
        "/v1/client/user-authenticators/passkey/authentication-options",
        json={},
        headers={"authorization": basic},
    ).json()
    answer = android.token(begun["challengeId"], {"id": "x", "type": "public-key"})
    _oauth_error(answer, 400, "invalid_grant")


def test_token_endpoint_errors(android: NativeApp, app: App) -> None:
    _oauth_error(android.post("/oauth/token", {"client_id": app.client_id}), 400, "invalid_request")
    _oauth_error(
        android.post("/oauth/token", {"client_id": app.client_id, "grant_type": "password"}),
        400,
        "unsupported_grant_type",
    )
    _oauth_error(
        android.post("/oauth/token", {"grant_type": GRANT, "client_id": "nope"}),
        401,
        "invalid_client",
    )
    answer = android.http.post(
        f"{android.base}/oauth/token", content=b"{", headers={"content-type": "application/json"}
    )
    _oauth_error(answer, 400, "invalid_request")
    _oauth_error(
        android.http.get(f"{android.base}/userinfo", headers={"authorization": "Bearer x.y.z"}),
        401,
        "invalid_token",
    )


def test_expired_auth_session(android: NativeApp, rt: Runtime, clock: Any) -> None:
    begun = android.signup_challenge(email="late@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    clock.advance(seconds=3600)
    before = row_counts(rt.engine)
    late = android.token(begun.json()["auth_session"], created)
    _oauth_error(late, 400, "invalid_grant")
    assert "challenge_expired" in late.json()["error_description"]
    assert row_counts(rt.engine)["users"] == before["users"]


def test_platform_credential_without_optional_fields(android: NativeApp) -> None:
    """Credential Manager and AuthenticationServices results may lack transports,
    authenticatorAttachment and clientExtensionResults."""
    begun = android.signup_challenge(email="bare@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    for name in ("clientExtensionResults", "authenticatorAttachment"):
        created.pop(name, None)
    created["response"].pop("transports", None)
    answer = android.token(begun.json()["auth_session"], created, scope="openid offline_access")
    assert answer.status_code == 200, answer.text
    assert answer.json()["refresh_token"]
