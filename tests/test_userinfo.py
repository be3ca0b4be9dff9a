"""The userinfo endpoint as OAuth clients call it: GET or POST (OIDC Core §5.3.1), the token in
the header or a form body (RFC 6750 §2.1-2.2), a 401 with its `WWW-Authenticate: Bearer`
challenge (RFC 6750 §3), and claims that follow the scope the token was granted (§5.4), also
after a refresh and in the passkey grant's ID token."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from tests.support.native import ANDROID_ORIGIN, NativeApp, mobile_app
from tests.support.native import verified_claims as _verified


@pytest.fixture
def app(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> App:
    return mobile_app(rt, tenant_and_secret[0])


@pytest.fixture
def android(client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App) -> NativeApp:
    return NativeApp(client, tenant_and_secret[0], app, ANDROID_ORIGIN)


def _tokens(android: NativeApp, scope: str) -> dict[str, Any]:
    answer = android.sign_up("ada@example.com", scope=scope)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _refused(answer: Any, description: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"error": "invalid_token", "error_description": description}
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="http://localhost:8000/t/')
    assert f'error="invalid_token", error_description="{description}"' in challenge


def test_get_and_post_with_the_token_in_the_header_or_the_form(android: NativeApp) -> None:
    access = _tokens(android, "openid email")["access_token"]
    url = f"{android.base}/userinfo"
    header = {"authorization": f"Bearer {access}"}
    by_get = android.http.get(url, headers=header)
    assert by_get.status_code == 200, by_get.text
    assert by_get.headers["cache-control"] == "no-store"
    assert set(by_get.json()) == {"sub", "email", "email_verified"}
    by_post = android.http.post(url, headers=header)
    assert (by_post.status_code, by_post.json()) == (200, by_get.json())
    in_form = android.http.post(url, data={"access_token": access})
    assert (in_form.status_code, in_form.json()) == (200, by_get.json())
    both = android.http.post(url, headers=header, data={"access_token": access})
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"


def test_a_missing_or_bad_token_is_a_bearer_challenge(android: NativeApp) -> None:
    url = f"{android.base}/userinfo"
    _refused(android.http.get(url), "send the access token as a Bearer token")
    _refused(android.http.post(url), "send the access token as a Bearer token")
    _refused(
        android.http.get(url, headers={"authorization": "Bearer x.y.z"}),
        "the access token is not valid",
    )
    id_token = _tokens(android, "openid")["id_token"]
    _refused(android.http.post(url, data={"access_token": id_token}), "this is not an access token")


@pytest.mark.parametrize(
    ("scope", "released"),
    [
        ("openid", set()),
        ("openid email", {"email", "email_verified"}),
        ("openid profile", {"name"}),
        ("openid profile email offline_access", {"email", "email_verified", "name"}),
    ],
)
def test_claims_follow_the_scope_in_the_passkey_grant(
    android: NativeApp, app: App, tenant_and_secret: tuple[Tenant, str], scope: str, released: set
) -> None:
    tokens = _tokens(android, scope)
    claims = _verified(android.http, tenant_and_secret[0], tokens["id_token"], app.client_id)
    standard = {"iss", "sub", "aud", "exp", "iat", "auth_time", "amr"}
    assert set(claims) == standard | released
    info = android.http.get(
        f"{android.base}/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert set(info.json()) == {"sub"} | released


def test_a_narrower_refresh_releases_fewer_claims(
    android: NativeApp, app: App, tenant_and_secret: tuple[Tenant, str]
) -> None:
    first = _tokens(android, "openid profile email offline_access")
    narrower = android.post(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "refresh_token": first["refresh_token"],
            "scope": "openid email",
        },
    )
    assert narrower.status_code == 200, narrower.text
    claims = _verified(
        android.http, tenant_and_secret[0], narrower.json()["id_token"], app.client_id
    )
    assert claims["email"] == "ada@example.com"
    assert "name" not in claims
    info = android.http.post(
        f"{android.base}/userinfo", data={"access_token": narrower.json()["access_token"]}
    )
    assert info.json() == {
        "sub": claims["sub"],
        "email": "ada@example.com",
        "email_verified": False,
    }
