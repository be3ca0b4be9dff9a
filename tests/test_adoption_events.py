"""The events the adoption funnel counts, written at their steps over HTTP: the page loaded
(only in this browser's own open flow), the sign-in's method and its time from the page's
load (on the server's clock), the passkey offer after a password sign-in (shown and declined
by the page for its signed-in user, accepted by the server when the passkey is made), and
hostile reports refused with their reason and nothing written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.services.pools import passwords as pool_passwords
from latchkey.store.tables import events
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.clock import FakeClock
from tests.support.pools import PoolBrowser, make_pool, pool_error
from tests.web_parties import ORIGIN

MILESTONE = "signin/milestone"


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, password=True)


@pytest.fixture
def visitor(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    return PoolBrowser(client, tenant.id, pool.id)


def logged(rt: Runtime, kind: str) -> list[Any]:
    with rt.read() as conn:
        query = select(events).where(events.c.kind == kind).order_by(events.c.created_at)
        return list(conn.execute(query))


def page_flow(visitor: PoolBrowser) -> str:
    page = visitor.http.get(f"{visitor.base}/signin")
    assert page.status_code == 200
    found = re.search(r'data-flow="([^"]+)"', page.text)
    assert found, "the sign-in page names no flow"
    return found.group(1)


def signed_up_then_out(visitor: PoolBrowser) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    assert visitor.post("logout", {}).status_code == 200


def test_the_page_reports_its_load_in_its_own_flow(
    rt: Runtime, visitor: PoolBrowser, pool: pools.Pool
) -> None:
    flow = page_flow(visitor)
    answer = visitor.post(MILESTONE, {"milestone": "page_loaded", "flow_id": flow})
    assert answer.status_code == 204, answer.text
    [loaded] = logged(rt, "pool.page_loaded")
    assert (loaded.outcome, loaded.user_id) == ("success", None)
    assert loaded.detail == {"pool_id": pool.id, "flow_id": flow}
    assert loaded.user_agent == "testclient"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"milestone": "page_loaded", "flow_id": "not-this-browsers"}, 403, "flow_mismatch"),
        ({"milestone": "page_loaded"}, 403, "flow_mismatch"),
        ({"milestone": "signed_in", "flow_id": "x"}, 400, "invalid_request"),
        ({"milestone": "offer_shown"}, 401, "not_signed_in"),
        ({"milestone": "offer_declined"}, 401, "not_signed_in"),
        ({"milestone": "page_loaded", "flow_id": "x" * 65}, 400, "invalid_request"),
        ([], 400, "invalid_request"),
    ],
)
def test_hostile_reports_are_refused_and_write_nothing(
    rt: Runtime, visitor: PoolBrowser, body: Any, status: int, code: str
) -> None:
    page_flow(visitor)  # the browser holds a flow cookie: only its own flow may report
    pool_error(visitor.post(MILESTONE, body), status, code)
    with rt.read() as conn:
        assert conn.execute(select(events.c.kind)).all() == []


def test_another_browsers_page_cannot_report_a_load(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool, visitor: PoolBrowser
) -> None:
    flow = page_flow(visitor)
    client.cookies.clear()
    pool_error(
        visitor.post(MILESTONE, {"milestone": "page_loaded", "flow_id": flow}),
        403,
        "flow_cookie_missing",
    )
    assert logged(rt, "pool.page_loaded") == []


@pytest.mark.parametrize(
    ("body", "method"),
    [
        ({"prompt": "autofill"}, "autofill"),
        ({"prompt": "button"}, "button"),
        # The identifier says identifier-first, whatever the page says it prompted.
        ({"identifier": "ada@example.com", "prompt": "button"}, "identifier"),
    ],
)
def test_a_passkey_sign_in_records_its_method_and_time_since_the_page_loaded(
    rt: Runtime, visitor: PoolBrowser, clock: FakeClock, body: dict[str, Any], method: str
) -> None:
    signed_up_then_out(visitor)
    flow = page_flow(visitor)
    begun = visitor.post("login/webauthn/options", {**body, "flow_id": flow, "since_load_ms": 1500})
    assert begun.status_code == 200, begun.text
    clock.advance(seconds=2)
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    assert visitor.post("login/webauthn/finish", assertion, flow_id=flow).status_code == 200
    [signed_in] = logged(rt, "pool.signed_in")
    assert signed_in.detail["method"] == method
    # 1.5 s before the options on the page, then 2 s on the server's clock.
    assert signed_in.detail["elapsed_ms"] == 3500


def test_a_sign_in_without_the_pages_hints_records_neither(
    rt: Runtime, visitor: PoolBrowser
) -> None:
    signed_up_then_out(visitor)
    assert visitor.sign_in().status_code == 200
    [signed_in] = logged(rt, "pool.signed_in")
    assert "method" not in signed_in.detail
    assert "elapsed_ms" not in signed_in.detail


@pytest.mark.parametrize(
    "extra",
    [
        {"prompt": "conditional"},
        {"since_load_ms": -1},
        {"since_load_ms": 86_400_001},
        {"since_load_ms": "soon"},
    ],
)
def test_bad_hints_are_refused(rt: Runtime, visitor: PoolBrowser, extra: dict[str, Any]) -> None:
    pool_error(visitor.post("login/webauthn/options", extra), 400, "invalid_request")
    with rt.read() as conn:
        assert conn.execute(select(events.c.kind)).all() == []


def test_the_offer_after_a_password_sign_in(
    rt: Runtime, visitor: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    signed_up_then_out(visitor)
    [user_id] = {e.user_id for e in logged(rt, "pool.signed_up")}
    pool_passwords.set_password(rt, tenant, pool, user_id, "correct horse battery")
    flow = page_flow(visitor)
    body = {"identifier": "ada@example.com", "password": "correct horse battery",
            "flow_id": flow, "since_load_ms": 4200}  # fmt: skip
    assert visitor.post("login/password", body).status_code == 200
    [signed_in] = logged(rt, "pool.password_sign_in")
    assert signed_in.detail == {"pool_id": pool.id, "method": "password", "elapsed_ms": 4200}

    assert visitor.post(MILESTONE, {"milestone": "offer_shown"}).status_code == 204
    begun = visitor.http.post(f"{visitor.base}/account/passkeys", params={"offer": "true"})
    assert begun.status_code == 200, begun.text
    # Another device's passkey (this authenticator holds the sign-up's).
    made = SoftAuthenticator().create(begun.json()["publicKey"], origin=ORIGIN)
    finished = visitor.post("register/webauthn/finish", made, flow_id=begun.json()["flow_id"])
    assert finished.status_code == 200, finished.text
    assert visitor.post(MILESTONE, {"milestone": "offer_declined"}).status_code == 204

    [shown] = logged(rt, "pool.passkey_offer_shown")
    [accepted] = logged(rt, "pool.passkey_offer_accepted")
    [declined] = logged(rt, "pool.passkey_offer_declined")
    assert shown.user_id == accepted.user_id == declined.user_id == user_id
    [added] = logged(rt, "pool.passkey_added")
    assert accepted.credential_id == added.credential_id is not None
    assert shown.detail == declined.detail == {"pool_id": pool.id}


def test_a_passkey_added_from_the_account_page_is_no_accepted_offer(
    rt: Runtime, visitor: PoolBrowser
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    begun = visitor.http.post(f"{visitor.base}/account/passkeys")
    made = SoftAuthenticator().create(begun.json()["publicKey"], origin=ORIGIN)
    finished = visitor.post("register/webauthn/finish", made, flow_id=begun.json()["flow_id"])
    assert finished.status_code == 200, finished.text
    assert len(logged(rt, "pool.passkey_added")) == 1
    assert logged(rt, "pool.passkey_offer_accepted") == []


def test_a_failed_passkey_sign_in_names_its_pool(
    rt: Runtime, client: TestClient, tenant: Tenant, visitor: PoolBrowser, pool: pools.Pool
) -> None:
    # A passkey of the tenant's other pool: unknown here, a failure of this pool's sign-in.
    staff = PoolBrowser(client, tenant.id, make_pool(rt, tenant, "staff").id)
    staff.authenticator = visitor.authenticator
    assert staff.sign_up("ada@example.com").status_code == 200
    begun = visitor.post("login/webauthn/options", {})
    assertion = visitor.authenticator.get(begun.json()["publicKey"], origin=ORIGIN)
    pool_error(visitor.post("login/webauthn/finish", assertion), 404, "credential_not_found")
    [failed] = logged(rt, "passkey.authentication")
    assert (failed.reason, failed.detail) == ("credential_not_found", {"pool_id": pool.id})
