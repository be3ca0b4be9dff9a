"""Identity-pool WebAuthn endpoints: sign-up and sign-in through stored flows, each refusal in
the pools' error shape, nothing written by a refused step."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools, tenants
from latchkey.store.tables import (
    botcheck_spent,
    credentials,
    events,
    flows,
    sso_sessions,
    user_identifiers,
    users,
)
from latchkey.testing.botcheck import solve
from tests.support.clock import FakeClock
from tests.support.pools import PoolBrowser, count, make_pool, pool_error
from tests.web_parties import ORIGIN


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example Customers")


@pytest.fixture
def visitor(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    return PoolBrowser(client, tenant.id, pool.id)


def test_sign_up_then_sign_in_with_a_discoverable_passkey(
    rt: Runtime, visitor: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    begun = visitor.begin_signup("Ada@Example.com")
    assert begun.status_code == 200, begun.text
    options = begun.json()["publicKey"]
    assert options["rp"] == {"name": "Example Customers", "id": "localhost"}
    assert options["user"]["name"] == "ada@example.com"
    assert {"challenge", "pubKeyCredParams", "authenticatorSelection", "timeout"} <= set(options)
    assert options.get("excludeCredentials", []) == []
    cookie = begun.cookies.get("latchkey_flow")
    assert cookie
    assert cookie.startswith(begun.json()["flow_id"] + ".")
    assert "httponly" in begun.headers["set-cookie"].lower()
    assert "samesite=lax" in begun.headers["set-cookie"].lower()

    created = visitor.authenticator.create(options, origin=ORIGIN)
    finished = visitor.post("register/webauthn/finish", created)
    assert finished.status_code == 200, finished.text
    assert finished.json()["signup"] is True
    assert finished.json()["redirect_to"] == f"{visitor.base}/account"
    assert visitor.http.cookies.get(f"latchkey_sso_{tenant.id}")
    with rt.engine.connect() as conn:
        user = conn.execute(select(users)).one()
        claimed = conn.execute(select(user_identifiers)).one()
    assert user.directory_id == pool.id
    assert user.email == "ada@example.com"
    assert (claimed.kind, claimed.value) == ("email", "ada@example.com")

    signed_in = visitor.sign_in()
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user_id"] == user.id
    assert signed_in.json()["signup"] is False
    assert count(rt, sso_sessions) == 2
    with rt.engine.connect() as conn:
        logged = [
            (r.kind, r.outcome) for r in conn.execute(select(events.c.kind, events.c.outcome))
        ]
    assert ("pool.signed_up", "success") in logged
    assert ("pool.signed_in", "success") in logged


def test_sign_in_options_reveal_no_account_with_or_without_an_identifier(
    visitor: PoolBrowser,
) -> None:
    """Issue 21 item 7: options for a known identifier, an unknown one, a malformed one and none
    are alike: discoverable (no allowCredentials), so nobody learns who has an account or its
    credential ids; the owner still signs in, identifier-first or not."""
    assert visitor.sign_up().status_code == 200
    asked = [
        visitor.post("login/webauthn/options", {"identifier": identifier})
        for identifier in ("ADA@example.com", "eve@example.com", "not an email", None)
    ]
    for answer in asked:
        assert answer.status_code == 200, answer.text
        assert answer.json()["publicKey"].get("allowCredentials", []) == []
        assert set(answer.json()["publicKey"]) == set(asked[-1].json()["publicKey"])
        assert set(answer.json()) == {"publicKey", "flow_id"}
    assert visitor.sign_in("ada@example.com").status_code == 200
    assert visitor.sign_in().status_code == 200


def test_unknown_pool_and_tenant(client: TestClient, tenant: Tenant, pool: pools.Pool) -> None:
    pool_error(
        client.post(f"/{tenant.id}/identity/nope/login/webauthn/options", json={}),
        404,
        "pool_not_found",
    )
    pool_error(
        client.post(f"/no-such-tenant/identity/{pool.id}/login/webauthn/options", json={}),
        404,
        "tenant_not_found",
    )


def test_a_pool_is_found_by_name_too(client: TestClient, tenant: Tenant, pool: pools.Pool) -> None:
    answer = client.post(f"/{tenant.id}/identity/customers/login/webauthn/options", json={})
    assert answer.status_code == 200, answer.text


def test_self_registration_off_refuses_sign_up_and_writes_nothing(
    rt: Runtime, visitor: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.configure(rt, tenant.id, pool.id, {"self_registration": False})
    pool_error(visitor.begin_signup("ada@example.com"), 403, "self_registration_disabled")
    assert count(rt, flows) == 0
    assert count(rt, users) == 0


def test_a_taken_identifier_is_refused_at_begin_and_at_finish(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    first, second = (PoolBrowser(client, tenant.id, pool.id) for _ in range(2))
    # Both begin while the e-mail is free; the first to finish takes it.
    begun_first = first.begin_signup("ada@example.com")
    first_cookie = client.cookies.get("latchkey_flow")
    begun_second = second.begin_signup("ada@example.com")
    second_cookie = client.cookies.get("latchkey_flow")
    made_first = first.authenticator.create(begun_first.json()["publicKey"], origin=ORIGIN)
    made_second = second.authenticator.create(begun_second.json()["publicKey"], origin=ORIGIN)
    client.cookies.set("latchkey_flow", first_cookie)
    assert first.post("register/webauthn/finish", made_first).status_code == 200
    client.cookies.set("latchkey_flow", second_cookie)
    pool_error(second.post("register/webauthn/finish", made_second), 409, "identifier_taken")
    assert count(rt, users) == 1
    assert count(rt, credentials) == 1
    pool_error(first.begin_signup("ADA@example.com"), 409, "identifier_taken")


def test_finish_needs_this_browsers_flow(
    rt: Runtime, visitor: PoolBrowser, client: TestClient
) -> None:
    assert visitor.sign_up().status_code == 200
    begun = visitor.post("login/webauthn/options", {})
    flow_id = begun.json()["flow_id"]
    cookie = client.cookies.get("latchkey_flow")
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    client.cookies.clear()
    pool_error(visitor.post("login/webauthn/finish", assertion), 403, "flow_cookie_missing")
    # A cookie from another flow than the page's.
    visitor.post("login/webauthn/options", {})
    pool_error(
        visitor.post("login/webauthn/finish", assertion, flow_id=flow_id), 403, "flow_mismatch"
    )
    # A forged secret for the right flow.
    client.cookies.set("latchkey_flow", flow_id + ".forged")
    pool_error(visitor.post("login/webauthn/finish", assertion), 403, "flow_mismatch")
    assert count(rt, sso_sessions) == 1
    # None of the refusals used the flow up: with its own cookie it finishes.
    client.cookies.set("latchkey_flow", cookie)
    answer = visitor.post("login/webauthn/finish", assertion, flow_id=flow_id)
    assert answer.status_code == 200, answer.text
    assert count(rt, sso_sessions) == 2


def test_a_finished_flow_cannot_be_replayed(
    rt: Runtime, visitor: PoolBrowser, client: TestClient
) -> None:
    assert visitor.sign_up().status_code == 200
    begun = visitor.post("login/webauthn/options", {})
    cookie = client.cookies.get("latchkey_flow")
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    assert visitor.post("login/webauthn/finish", assertion).status_code == 200
    # The answer expired the cookie; a replay that keeps it is refused all the same.
    assert client.cookies.get("latchkey_flow") is None
    client.cookies.set("latchkey_flow", cookie)
    pool_error(visitor.post("login/webauthn/finish", assertion), 400, "flow_used")
    assert count(rt, sso_sessions) == 2


def test_an_expired_flow(visitor: PoolBrowser, clock: FakeClock) -> None:
    assert visitor.sign_up().status_code == 200
    begun = visitor.post("login/webauthn/options", {})
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    clock.advance(minutes=16)
    pool_error(visitor.post("login/webauthn/finish", assertion), 410, "flow_expired")


def test_another_pools_passkey_is_unknown_here(
    rt: Runtime, client: TestClient, tenant: Tenant, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up().status_code == 200
    staff = make_pool(rt, tenant, "staff")
    elsewhere = PoolBrowser(client, tenant.id, staff.id)
    elsewhere.authenticator = visitor.authenticator
    pool_error(elsewhere.sign_in(), 404, "credential_not_found")
    assert count(rt, sso_sessions) == 1


def test_another_tenants_flow_cookie_is_refused(
    rt: Runtime, client: TestClient, visitor: PoolBrowser, pool: pools.Pool
) -> None:
    other, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    other_pool = make_pool(rt, other)
    outsider = PoolBrowser(client, other.id, other_pool.id)
    assert outsider.sign_up().status_code == 200
    begun = outsider.post("login/webauthn/options", {})
    stolen = client.cookies.get("latchkey_flow", path=f"{outsider.base}/")
    assertion = outsider.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    client.cookies.clear()
    client.cookies.set("latchkey_flow", stolen)
    pool_error(visitor.post("login/webauthn/finish", assertion), 403, "flow_mismatch")


def test_bad_bodies_get_the_pool_error_shape(visitor: PoolBrowser) -> None:
    answer = visitor.http.post(
        f"{visitor.base}/login/webauthn/options",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    pool_error(answer, 400, "invalid_json")
    pool_error(visitor.post("register/webauthn/begin", {"identifier": 5}), 400, "invalid_request")
    pool_error(visitor.begin_signup("not-an-email"), 400, "invalid_request")


def test_sign_up_needs_a_fresh_bot_check_solution_of_its_own_flow(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.configure(rt, tenant.id, pool.id, {"bot_check": True})
    visitor = PoolBrowser(client, tenant.id, pool.id)
    challenge = client.get(f"{visitor.base}/botcheck/challenge")
    assert challenge.status_code == 200, challenge.text
    # Asked without a flow: the answer names the new (pending) flow it is for.
    flow = challenge.json()["flow_id"]
    solution = solve(challenge.json())
    pool_error(visitor.begin_signup("ada@example.com", flow_id=flow), 400, "bot_check_required")
    forged = visitor.begin_signup("ada@example.com", altcha="Zm9yZ2Vk", flow_id=flow)
    pool_error(forged, 400, "bot_check_failed")
    # Issue 21 item 5: a solution works only in the flow that asked for it.
    elsewhere = visitor.begin_signup("ada@example.com", altcha=solution)
    pool_error(elsewhere, 400, "bot_check_failed")
    begun = visitor.begin_signup("ada@example.com", altcha=solution, flow_id=flow)
    assert begun.status_code == 200, begun.text
    replayed = visitor.begin_signup("ada@example.com", altcha=solution, flow_id=flow)
    pool_error(replayed, 400, "bot_check_replayed")
    made = visitor.authenticator.create(begun.json()["publicKey"], origin=ORIGIN)
    assert visitor.post("register/webauthn/finish", made, flow_id=flow).status_code == 200
    assert count(rt, flows) == 1
    # A refused sign-up leaves its solution unspent: the same one then works.
    fresh = client.get(f"{visitor.base}/botcheck/challenge").json()
    solved = solve(fresh)
    taken = visitor.begin_signup("ADA@example.com", altcha=solved, flow_id=fresh["flow_id"])
    pool_error(taken, 409, "identifier_taken")
    assert count(rt, botcheck_spent) == 1
    bob = visitor.begin_signup("bob@example.com", altcha=solved, flow_id=fresh["flow_id"])
    assert bob.status_code == 200, bob.text
