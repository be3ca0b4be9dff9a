"""Access-token audiences (RFC 9068 §3, RFC 8707): the API an app registered (the first by
default) or the tenant's own API audience, named by `audience` (Auth0 SDKs) or `resource`;
an unregistered one is `invalid_target` with nothing written; a refresh keeps its audience
while the app still registers it. Checked with PyJWT the way a resource server would."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
import pytest
from litestar.testing import TestClient

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant
from latchkey.oauth2 import audiences
from latchkey.runtime import Runtime
from latchkey.services import apps
from tests.ceremony_client import row_counts
from tests.support.native import ANDROID_ORIGIN, NativeApp, mobile_app
from tests.support.native import verified_claims as _verified

API = "https://api.example.com"
BILLING = "https://billing.example.com/"


@pytest.fixture
def app(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> App:
    return mobile_app(rt, tenant_and_secret[0])


@pytest.fixture
def android(client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App) -> NativeApp:
    return NativeApp(client, tenant_and_secret[0], app, ANDROID_ORIGIN)


def _access(android: NativeApp, tenant: Tenant, answer: Any, audience: str) -> dict[str, Any]:
    """The access token as a resource server for `audience` checks it."""
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert pyjwt.get_unverified_header(token)["typ"] == "at+jwt"
    return _verified(android.http, tenant, token, audience)


def _target_refused(answer: Any) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_target"


def test_without_registered_audiences_tokens_are_for_the_tenants_api(
    rt: Runtime, android: NativeApp, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    own = audiences.tenant_audience(rt.public_url, tenant.id)
    assert own == f"http://localhost:8000/t/{tenant.id}/api"
    claims = _access(android, tenant, android.sign_up(), own)
    assert claims["aud"] == own
    assert claims["client_id"] == android.client_id
    assert claims["scope"] == "openid"
    assert {"iss", "sub", "exp", "iat", "jti"} <= set(claims)
    _access(android, tenant, android.sign_in(audience=own), own)
    _target_refused(android.sign_in(audience=API))


def test_registered_audiences_by_audience_or_resource(
    rt: Runtime, android: NativeApp, app: App, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    apps.update(rt, app.client_id, audiences=[API, BILLING])
    assert _access(android, tenant, android.sign_up(), API)["aud"] == API  # the first
    assert _access(android, tenant, android.sign_in(audience=BILLING), BILLING)["aud"] == BILLING
    assert _access(android, tenant, android.sign_in(resource=BILLING), BILLING)["aud"] == BILLING
    _target_refused(android.sign_in(audience=API, resource=BILLING))
    own = audiences.tenant_audience(rt.public_url, tenant.id)
    _target_refused(android.sign_in(audience=own))  # registered ones replace the default


def test_an_unregistered_audience_writes_nothing(rt: Runtime, android: NativeApp) -> None:
    begun = android.signup_challenge(email="ada@example.com")
    created = android.authenticator.create(
        begun.json()["authn_params_public_key"], origin=ANDROID_ORIGIN
    )
    before = row_counts(rt.engine)
    refused = android.token(begun.json()["auth_session"], created, audience="https://evil.example")
    _target_refused(refused)
    assert row_counts(rt.engine) == before
    # The auth_session was not used up: the same sign-up goes through without the audience.
    assert android.token(begun.json()["auth_session"], created).status_code == 200


def test_a_refresh_keeps_its_audience_while_the_app_registers_it(
    rt: Runtime, android: NativeApp, app: App, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    apps.update(rt, app.client_id, audiences=[API, BILLING])
    first = android.sign_up(scope="openid offline_access", audience=BILLING).json()

    def refresh(token: str, **extra: str) -> Any:
        body = {"grant_type": "refresh_token", "client_id": app.client_id, "refresh_token": token}
        return android.post("/oauth/token", {**body, **extra})

    _target_refused(refresh(first["refresh_token"], audience=API))
    # The refused refresh did not use the token up.
    second = refresh(first["refresh_token"])
    assert _access(android, tenant, second, BILLING)["aud"] == BILLING
    third = refresh(second.json()["refresh_token"], resource=BILLING)
    assert _access(android, tenant, third, BILLING)["aud"] == BILLING
    apps.update(rt, app.client_id, audiences=[API])
    _target_refused(refresh(third.json()["refresh_token"]))


def test_audience_settings_are_checked(rt: Runtime, app: App) -> None:
    for bad in ("", "two words", "x" * 256):
        with pytest.raises(ConfigError, match="audience"):
            apps.update(rt, app.client_id, audiences=[bad])
    kept = apps.update(rt, app.client_id, audiences=[API, API, BILLING])
    assert kept.audiences == (API, BILLING)
    assert apps.get(rt, app.client_id).audiences == (API, BILLING)
