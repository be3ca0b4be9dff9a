"""The identity-pool JSON endpoints and browsers (issue 21 item 5, issue 18 item 18): a custom
login UI on a tenant's own web origin may call them with credentials (CORS answered for it);
another site's page gets no CORS headers and its state-changing calls are refused before they
run, as are text/plain, form and multipart bodies from anywhere; the hosted pages' own calls
go on."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools, tenants
from latchkey.store.tables import flows, mail_outbox
from tests.support.pools import PoolBrowser, count, make_pool, pool_error
from tests.web_parties import ORIGIN

EVIL = "https://evil.example"


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, email_sender="login@example.com")


class CustomUi(PoolBrowser):
    """A login page of the tenant's own, calling the pool endpoints with fetch (credentials:
    'include'): every call carries its Origin."""

    def __init__(self, http: TestClient, tenant_id: str, pool_id: str, origin: str) -> None:
        super().__init__(http, tenant_id, pool_id)
        self.origin = origin

    def post(self, path: str, body: Any, **params: str) -> Any:
        return self.http.post(
            f"{self.base}/{path}", json=body, params=params, headers={"origin": self.origin}
        )


def _preflight(client: TestClient, base: str, origin: str, method: str = "POST") -> Any:
    return client.options(
        f"{base}/login/webauthn/options",
        headers={
            "origin": origin,
            "access-control-request-method": method,
            "access-control-request-headers": "content-type",
        },
    )


def test_a_custom_ui_on_the_tenants_origin_signs_up_and_in(
    client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    ui = CustomUi(client, tenant.id, pool.id, ORIGIN)
    allowed = _preflight(client, ui.base, ORIGIN)
    assert allowed.status_code == 204, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "content-type"
    assert "origin" in allowed.headers["vary"].lower()

    signed_up = ui.sign_up("ada@example.com")
    assert signed_up.status_code == 200, signed_up.text
    assert signed_up.headers["access-control-allow-origin"] == ORIGIN
    assert signed_up.headers["access-control-allow-credentials"] == "true"
    signed_in = ui.sign_in()
    assert signed_in.status_code == 200, signed_in.text
    listed = client.get(f"{ui.base}/account/passkeys", headers={"origin": ORIGIN})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == ORIGIN


def test_another_sites_preflight_and_calls_are_refused(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    other, _ = tenants.create(rt, rp_id="b.test", rp_name="Other", origins=["https://b.test"])
    base = f"/{tenant.id}/identity/{pool.id}"
    for origin in (EVIL, "https://b.test", "null"):
        refused = _preflight(client, base, origin)
        pool_error(refused, 403, "origin_not_allowed")
        assert "access-control-allow-origin" not in refused.headers
    pool_error(_preflight(client, base, ORIGIN, method="PUT"), 403, "origin_not_allowed")

    owner = PoolBrowser(client, tenant.id, pool.id)
    assert owner.sign_up("ada@example.com").status_code == 200
    flows_before = count(rt, flows)
    attacker = CustomUi(client, tenant.id, pool.id, EVIL)
    pool_error(attacker.post("login/webauthn/options", {}), 403, "origin_not_allowed")
    pool_error(
        attacker.post("recovery/begin", {"identifier": "ada@example.com"}),
        403,
        "origin_not_allowed",
    )
    # The victim's browser, signed in, on the attacker's page: its session is not used.
    passkeys = client.get(f"{base}/account/passkeys").json()["passkeys"]
    gone = client.delete(f"{base}/account/passkeys/{passkeys[0]['id']}", headers={"origin": EVIL})
    pool_error(gone, 403, "origin_not_allowed")
    pool_error(client.post(f"{base}/logout", headers={"origin": EVIL}), 403, "origin_not_allowed")
    # Reading is not refused, but the answer carries no CORS header: the page cannot read it.
    read = client.get(f"{base}/account/passkeys", headers={"origin": EVIL})
    assert "access-control-allow-origin" not in read.headers
    assert count(rt, flows) == flows_before
    assert count(rt, mail_outbox) == 0
    # The owner's session and passkey are still there.
    assert len(client.get(f"{base}/account/passkeys").json()["passkeys"]) == 1
    assert owner.sign_in().status_code == 200
    assert other.id != tenant.id


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_simple_bodies_are_refused_from_anywhere(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool, content_type: str
) -> None:
    """What a <form> on any site can send without a preflight, even with no Origin."""
    base = f"/{tenant.id}/identity/{pool.id}"
    for headers in ({}, {"origin": ORIGIN}):
        answer = client.post(
            f"{base}/recovery/begin",
            content=b'{"identifier": "ada@example.com"}',
            headers={"content-type": content_type, **headers},
        )
        pool_error(answer, 415, "unsupported_media_type")
    assert count(rt, flows) == 0


def test_the_hosted_pages_own_calls_go_on(
    client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    """Same origin: the host the request was sent to (the TestClient's), no CORS headers."""
    page = CustomUi(client, tenant.id, pool.id, "http://testserver.local")
    signed_up = page.sign_up("ada@example.com")
    assert signed_up.status_code == 200, signed_up.text
    assert "access-control-allow-origin" not in signed_up.headers
    assert page.sign_in().status_code == 200
