"""Token revocation (RFC 7009) at /oauth/revoke: the RFC's form and the JSON body the Auth0
mobile SDKs send, a refresh token ending its family, an access token refused by userinfo,
another client's token refused, and an unknown token answered 200 with nothing written."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps
from latchkey.store.tables import events, refresh_tokens, revoked_access_tokens
from tests.ceremony_client import row_counts
from tests.support.native import ANDROID_ORIGIN, NativeApp, mobile_app


@pytest.fixture
def app(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> App:
    return mobile_app(rt, tenant_and_secret[0])


@pytest.fixture
def android(client: TestClient, tenant_and_secret: tuple[Tenant, str], app: App) -> NativeApp:
    return NativeApp(client, tenant_and_secret[0], app, ANDROID_ORIGIN)


def _signed_up(android: NativeApp) -> dict[str, Any]:
    answer = android.sign_up("ada@example.com", scope="openid email offline_access")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _refresh(android: NativeApp, token: str) -> Any:
    body = {"grant_type": "refresh_token", "client_id": android.client_id, "refresh_token": token}
    return android.post("/oauth/token", body)


def _revoked(answer: Any) -> None:
    """RFC 7009 §2.2: 200, and nothing in the body a client must read."""
    assert answer.status_code == 200, answer.text
    assert answer.content == b""
    assert answer.headers["cache-control"] == "no-store"


def _live_tokens(rt: Runtime) -> int:
    query = select(refresh_tokens).where(refresh_tokens.c.revoked_at.is_(None))
    with rt.engine.connect() as conn:
        return len(conn.execute(query).all())


def test_discovery_names_the_revocation_endpoint(android: NativeApp) -> None:
    found = android.http.get(f"{android.base}/.well-known/openid-configuration").json()
    assert found["revocation_endpoint"].endswith(f"{android.base}/oauth/revoke")
    assert "none" in found["revocation_endpoint_auth_methods_supported"]


def test_a_refresh_token_in_the_rfc_form_ends_its_whole_family(
    rt: Runtime, android: NativeApp
) -> None:
    first = _signed_up(android)
    second = _refresh(android, first["refresh_token"])
    assert second.status_code == 200, second.text
    assert _live_tokens(rt) == 2  # the used one is not revoked until reuse or revocation
    # The older, already used token still names the family: revoking it ends the newest too.
    form = {
        "token": first["refresh_token"],
        "token_type_hint": "refresh_token",
        "client_id": android.client_id,
    }
    _revoked(android.http.post(f"{android.base}/oauth/revoke", data=form))
    assert _live_tokens(rt) == 0
    refused = _refresh(android, second.json()["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    with rt.engine.connect() as conn:
        logged = conn.execute(select(events).where(events.c.kind == "oidc.token_revoked")).one()
    assert logged.outcome == "success"
    assert logged.detail == {"client_id": android.client_id, "token_type": "refresh_token"}


def test_the_auth0_sdks_json_body(rt: Runtime, android: NativeApp) -> None:
    tokens = _signed_up(android)
    # Auth0.Android revokeToken / Auth0.swift revoke: POST /oauth/revoke {client_id, token}.
    body = {"client_id": android.client_id, "token": tokens["refresh_token"]}
    _revoked(android.post("/oauth/revoke", body))
    assert _live_tokens(rt) == 0
    assert _refresh(android, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    # Revoking again, or a token nobody issued: the same 200, and nothing written (§2.2).
    before = row_counts(rt.engine)
    _revoked(android.post("/oauth/revoke", body))
    _revoked(android.post("/oauth/revoke", {**body, "token": "lk_rt_nobody-issued-this"}))
    _revoked(android.post("/oauth/revoke", {**body, "token": "not.a.jwt"}))
    assert row_counts(rt.engine) == before


def test_an_access_token_is_refused_by_userinfo_once_revoked(
    rt: Runtime, android: NativeApp
) -> None:
    tokens = _signed_up(android)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert android.http.get(f"{android.base}/userinfo", headers=bearer).status_code == 200
    form = {"token": tokens["access_token"], "client_id": android.client_id}
    _revoked(android.http.post(f"{android.base}/oauth/revoke", data=form))
    refused = android.http.get(f"{android.base}/userinfo", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "the access token was revoked"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    # The refresh token is another grant's artefact: it still works.
    assert _refresh(android, tokens["refresh_token"]).status_code == 200
    _revoked(android.http.post(f"{android.base}/oauth/revoke", data=form))  # again: still 200
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(revoked_access_tokens)).all()) == 1


def test_another_clients_token_is_refused_and_kept(
    rt: Runtime, android: NativeApp, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tokens = _signed_up(android)
    other, _ = apps.create(rt, tenant_and_secret[0].id, name="Other")
    for token in (tokens["refresh_token"], tokens["access_token"]):
        answer = android.post("/oauth/revoke", {"client_id": other.client_id, "token": token})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_grant"
    assert _live_tokens(rt) == 1


def test_client_authentication_and_a_missing_token(
    rt: Runtime, android: NativeApp, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tokens = _signed_up(android)
    missing = android.post("/oauth/revoke", {"client_id": android.client_id})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    nobody = android.post("/oauth/revoke", {"token": tokens["refresh_token"]})
    assert (nobody.status_code, nobody.json()["error"]) == (401, "invalid_client")
    confidential, secret = apps.create(
        rt, tenant_and_secret[0].id, name="Backend", app_type="regular_web", confidential=True
    )
    assert secret
    unauthenticated = android.post("/oauth/revoke", {"client_id": confidential.client_id})
    assert (unauthenticated.status_code, unauthenticated.json()["error"]) == (
        401,
        "invalid_client",
    )
    assert "www-authenticate" not in unauthenticated.headers
    # RFC 6749 §5.2: a failed HTTP Basic attempt is answered with a Basic challenge, at the
    # revocation and the token endpoint alike.
    wrong = base64.b64encode(f"{confidential.client_id}:lk_cs_wrong".encode()).decode()
    for path, form in (
        ("/oauth/revoke", {"token": "lk_rt_unknown"}),
        ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "lk_rt_unknown"}),
    ):
        refused = android.http.post(
            f"{android.base}{path}", data=form, headers={"authorization": f"Basic {wrong}"}
        )
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
        assert refused.headers["www-authenticate"] == 'Basic realm="oauth"'
    basic = base64.b64encode(f"{confidential.client_id}:{secret}".encode()).decode()
    _revoked(
        android.http.post(
            f"{android.base}/oauth/revoke",
            data={"token": "lk_rt_unknown"},
            headers={"authorization": f"Basic {basic}"},
        )
    )
    assert _live_tokens(rt) == 1
