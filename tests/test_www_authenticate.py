"""Every 401 of the /v1, ceremony and management surfaces carries a `WWW-Authenticate`
challenge (RFC 9110 §15.5.2), and a refused Bearer token is named `invalid_token` with a
description (RFC 6750 §3), on the routes served before Litestar as on Litestar's own."""

from __future__ import annotations

import base64

from litestar.testing import TestClient

from latchkey.models import Tenant

BAD_BEARER = {"authorization": "Bearer not-a-token"}


def _basic(user: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()}


def _bearer_challenge(answer: object) -> str:
    challenge: str = answer.headers["www-authenticate"]  # type: ignore[attr-defined]
    assert challenge.startswith('Bearer realm="latchkey", error="invalid_token", ')
    assert 'error_description="' in challenge
    return challenge


def test_the_server_api_names_its_schemes(
    client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    for headers in ({}, _basic("sk_wrong")):
        refused = client.post("/v1/validate", json={"token": "x"}, headers=headers)
        assert refused.status_code == 401
        # No Basic challenge: a browser would answer it with a sign-in dialog.
        assert "www-authenticate" not in refused.headers
        refused = client.get("/v1/users/alice", headers=headers)
        assert refused.status_code == 401
        assert "www-authenticate" not in refused.headers
    allowed = client.get("/v1/users/alice", headers=_basic(tenant_and_secret[1]))
    assert "www-authenticate" not in allowed.headers


def test_a_bad_action_token_is_an_invalid_token_challenge(
    client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    # A Litestar route, and one of the hot routes served before it.
    for path in (
        "/v1/client/user-authenticators/passkey/registration-options",
        "/v1/client/user-authenticators/passkey/authentication-options",
    ):
        refused = client.post(path, json={}, headers=BAD_BEARER)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["errorCode"] == "invalid_token"
        _bearer_challenge(refused)


def test_the_management_api_challenges_operators(client: TestClient) -> None:
    refused = client.get("/admin/v1/tenants")
    assert refused.status_code == 401
    assert "www-authenticate" not in refused.headers
    refused = client.get("/admin/v1/tenants", headers={"authorization": "Bearer lk_op_nope"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_operator_token"
    _bearer_challenge(refused)
