"""Security headers on every kind of answer: API, errors, unknown paths, static files, CORS
preflights and pages; no-store unless a route chose its caching; HSTS only over TLS."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from tests.web_parties import ORIGIN


def _secured(answer: Any) -> None:
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff", answer.request.url
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in headers  # plain http here


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


def test_api_answers_and_errors(client: TestClient, tenant: Tenant) -> None:
    answers = [
        client.get("/health"),
        client.post("/v1/validate", json={"token": "x"}),  # 401
        client.get("/no/such/path"),  # 404 from the router
        client.put("/health"),  # 405
        client.post(f"/t/{tenant.id}/oauth/token", json={"grant_type": "password"}),
        client.post(f"/{tenant.id}/identity/default/login/webauthn/options", json={}),
    ]
    for answer in answers:
        _secured(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url


def test_preflight_static_files_and_pages(client: TestClient, tenant: Tenant) -> None:
    preflight = client.options(
        "/v1/client/verify/passkey",
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    static = client.get("/static/hosted/hosted.css")
    sdk = client.get("/sdk/v1/latchkey.js")
    page = client.get(f"/{tenant.id}/identity/default/signin")
    for answer in (preflight, static, sdk, page):
        _secured(answer)
    # Static files keep their own caching; the page keeps its own, stricter CSP.
    assert "public" in static.headers["cache-control"]
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_hsts_over_tls(client: TestClient) -> None:
    secure = TestClient(client.app, base_url="https://testserver.local")
    with secure:
        answer = secure.get("/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
