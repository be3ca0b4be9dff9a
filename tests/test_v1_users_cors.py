"""The /v1 user and authenticator management calls, the client API's credential lookup, CORS for
the tenant's own origins only, and the Web SDK's static files."""

from __future__ import annotations

import base64
import time

import pytest
from httpx import Response
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenants
from tests.ceremony_client import row_counts
from tests.web_parties import ORIGIN, Backend, Browser

OTHER_ORIGIN = "http://localhost:7777"


def _enrolled(backend: Backend, browser: Browser, user_id: str) -> dict[str, object]:
    tracked = backend.track(user_id, "add-passkey", username=f"{user_id}@example.com")
    signed_up = browser.sign_up(tracked["token"])
    assert signed_up.status_code == 200, signed_up.text
    body: dict[str, object] = signed_up.json()
    return body


def test_update_user_profile(backend: Backend) -> None:
    backend.track("u-p", "signin", username="old")
    answer = backend.http.patch(
        "/v1/users/u-p",
        json={"displayName": "Ada L.", "email": "ada@example.com", "phoneNumber": "+14155550100"},
        headers=backend.auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["displayName"] == "Ada L."
    fetched = backend.http.get("/v1/users/u-p", headers=backend.auth).json()
    assert (fetched["email"], fetched["phoneNumber"]) == ("ada@example.com", "+14155550100")
    assert fetched["username"] == "old"


def test_update_user_refuses_bad_values(backend: Backend, rt: Runtime) -> None:
    before = row_counts(rt.engine)
    for body in ({"email": "not-an-address"}, {"phoneNumber": "call me"}, {"displayName": 5}):
        answer = backend.http.patch("/v1/users/u-q", json=body, headers=backend.auth)
        assert answer.status_code == 400, body
        assert answer.json()["error"] == "invalid_request"
    assert row_counts(rt.engine) == before


def test_update_creates_an_untracked_user(backend: Backend) -> None:
    answer = backend.http.patch("/v1/users/new-one", json={"username": "n"}, headers=backend.auth)
    assert answer.status_code == 200
    assert answer.json() | {"isEnrolled": False} == answer.json()


def test_delete_user_removes_passkeys_and_tokens(backend: Backend, browser: Browser) -> None:
    body = _enrolled(backend, browser, "u-d")
    answer = backend.http.delete("/v1/users/u-d", headers=backend.auth)
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    assert backend.http.get("/v1/users/u-d", headers=backend.auth).json()["isEnrolled"] is False
    # The result token died with the user's actions; the passkey no longer signs in.
    assert backend.validate(str(body["accessToken"]))["isValid"] is False
    refused = browser.sign_in()
    assert refused.status_code == 404
    assert refused.json()["errorCode"] == "credential_not_found"
    again = backend.http.delete("/v1/users/u-d", headers=backend.auth)
    assert again.status_code == 404
    assert again.json()["errorCode"] == "user_not_found"


def test_delete_authenticator(backend: Backend, browser: Browser) -> None:
    body = _enrolled(backend, browser, "u-a")
    path = f"/v1/users/u-a/authenticators/{body['userAuthenticatorId']}"
    assert backend.http.delete(path, headers=backend.auth).json() == {"success": True}
    assert backend.http.get("/v1/users/u-a/authenticators", headers=backend.auth).json() == []
    assert backend.http.get("/v1/users/u-a", headers=backend.auth).json()["isEnrolled"] is False
    gone = backend.http.delete(path, headers=backend.auth)
    assert gone.status_code == 404
    assert gone.json()["errorCode"] == "credential_not_found"
    # A user's authenticator id cannot be deleted through another user.
    other = _enrolled(backend, browser, "u-b")
    wrong = backend.http.delete(
        f"/v1/users/u-a/authenticators/{other['userAuthenticatorId']}", headers=backend.auth
    )
    assert wrong.status_code == 404
    assert len(backend.http.get("/v1/users/u-b/authenticators", headers=backend.auth).json()) == 1


def test_other_tenant_cannot_manage_users(
    backend: Backend, browser: Browser, client: TestClient, rt: Runtime
) -> None:
    body = _enrolled(backend, browser, "u-x")
    _other, secret = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    other = Backend(client, secret)
    path = f"/v1/users/u-x/authenticators/{body['userAuthenticatorId']}"
    assert other.http.delete(path, headers=other.auth).status_code == 404
    assert other.http.delete("/v1/users/u-x", headers=other.auth).status_code == 404
    assert backend.http.get("/v1/users/u-x", headers=backend.auth).json()["isEnrolled"] is True


def test_client_lookup_by_credential_ids(backend: Backend, browser: Browser) -> None:
    _enrolled(backend, browser, "u-c")
    credential_id = next(iter(browser.authenticator.credentials))
    assert isinstance(credential_id, bytes)
    encoded = base64.urlsafe_b64encode(credential_id).rstrip(b"=").decode()
    headers = browser.headers(None)
    found = browser.http.get(
        f"/v1/client/user-authenticators/passkey?credentialIds=AAAA,{encoded}", headers=headers
    )
    assert found.status_code == 200, found.text
    assert found.json()["webauthnCredential"]["credentialId"] == encoded
    missing = browser.http.get(
        "/v1/client/user-authenticators/passkey?credentialIds=AAAA", headers=headers
    )
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "credential_not_found"
    bad = browser.http.get(
        "/v1/client/user-authenticators/passkey?credentialIds=***", headers=headers
    )
    assert bad.status_code == 400


# --- CORS -------------------------------------------------------------------------------------


def _preflight(
    client: TestClient, origin: str, headers: str = "authorization,content-type"
) -> Response:
    return client.options(
        "/v1/client/challenge",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
        },
    )


def test_preflight_allows_a_tenant_origin_only(
    client: TestClient, tenant_and_secret: object
) -> None:
    allowed = _preflight(client, ORIGIN)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    refused = _preflight(client, "https://evil.example")
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert refused.json()["errorCode"] == "origin_not_allowed"
    odd_header = _preflight(client, ORIGIN, headers="authorization,x-evil")
    assert "access-control-allow-origin" not in odd_header.headers


def test_preflight_sees_a_new_tenant_origin(client: TestClient, rt: Runtime) -> None:
    assert _preflight(client, OTHER_ORIGIN).status_code == 403
    tenants.create(rt, rp_id="localhost", origins=[OTHER_ORIGIN])
    time.sleep(1.1)  # a miss reloads the origin list at most once a second
    assert _preflight(client, OTHER_ORIGIN).status_code == 204


def test_actual_request_carries_cors_for_its_origin(
    client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, _ = tenant_and_secret
    basic = "Basic " + base64.b64encode(tenant.id.encode()).decode()
    answer = client.post(
        "/v1/client/challenge",
        json={"action": "signin"},
        headers={"authorization": basic, "origin": ORIGIN},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in answer.headers["vary"]
    # Errors are readable by the SDK too (they hold nothing of the tenant's).
    expired = client.post(
        "/v1/client/user-authenticators/passkey/registration-options",
        json={},
        headers={"authorization": "Bearer lk_tok_nope", "origin": ORIGIN},
    )
    assert expired.status_code == 401
    assert expired.headers["access-control-allow-origin"] == ORIGIN


def test_origin_of_another_tenant_is_refused(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, _ = tenant_and_secret
    tenants.create(rt, rp_id="localhost", origins=[OTHER_ORIGIN])
    basic = "Basic " + base64.b64encode(tenant.id.encode()).decode()
    before = row_counts(rt.engine)
    answer = client.post(
        "/v1/client/challenge",
        json={"action": "signin"},
        headers={"authorization": basic, "origin": OTHER_ORIGIN},
    )
    assert answer.status_code == 403
    assert answer.json()["errorCode"] == "origin_not_allowed"
    assert row_counts(rt.engine) == before
    unknown = client.post(
        "/v1/client/challenge",
        json={"action": "signin"},
        headers={"authorization": basic, "origin": "https://evil.example"},
    )
    assert unknown.status_code == 403
    assert "access-control-allow-origin" not in unknown.headers


def test_server_api_has_no_cors(client: TestClient) -> None:
    answer = client.options(
        "/v1/validate",
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("name", ["latchkey.js", "latchkey.mjs", "latchkey.d.ts"])
def test_web_sdk_is_served(client: TestClient, name: str) -> None:
    answer = client.get(f"/sdk/v1/{name}")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "max-age" in answer.headers["cache-control"]
    if name.endswith("js"):
        assert answer.headers["content-type"].startswith("text/javascript")
        assert "Latchkey" in answer.text
