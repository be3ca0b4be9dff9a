"""Abuse bounds of the unauthenticated surfaces (issue 21 items 5-8): per-account limits count
every spelling of an identifier as one, and each refusal leaves the owner's own journey
working."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.errors import InvalidRequest
from latchkey.models import Tenant
from latchkey.runtime import Runtime, ratelimit
from latchkey.runtime.ratelimit import Rule
from latchkey.services import directories, pools
from latchkey.services.pools import passwords as pool_passwords
from latchkey.services.pools import recovery_limits
from latchkey.store.tables import challenges, flows, users
from latchkey.testing.botcheck import solve
from tests.support.clock import FakeClock
from tests.support.limits import with_limits
from tests.support.mail import code_and_link, mails
from tests.support.native import ANDROID_ORIGIN, NativeApp, mobile_app
from tests.support.pools import PoolBrowser, count, make_pool, pool_error
from tests.web_parties import ORIGIN

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def still_clock(rt: Runtime) -> None:
    """Rate-limit windows follow the wall clock: hold it, so no window ends mid-test."""
    rt.limiter = ratelimit.Limiter(ratelimit.MemoryCounter(clock=lambda: 1_800_000_000.0))


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


def _with_password(rt: Runtime, tenant: Tenant, pool: pools.Pool, browser: PoolBrowser) -> None:
    with rt.engine.connect() as conn:
        user_id = conn.execute(select(users.c.id)).scalar_one()
    pool_passwords.set_password(rt, tenant, pool, user_id, PASSWORD)


def _password(browser: PoolBrowser, identifier: str, password: str) -> Any:
    return browser.post("login/password", {"identifier": identifier, "password": password})


def test_an_unknown_account_costs_a_full_hash_with_the_hashers_parameters() -> None:
    """The hash an unknown account's password is checked against is a real one, made with the
    parameters every stored hash gets, so refusing costs the same as for a known account."""
    dummy = pool_passwords._DUMMY
    assert not pool_passwords._hasher.check_needs_rehash(dummy)
    assert pool_passwords._hasher.verify(dummy, "latchkey: no such account")


def test_password_guesses_in_any_spelling_of_an_email_share_one_count(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    pool = make_pool(rt, tenant, password=True)
    owner = PoolBrowser(client, tenant.id, pool.id)
    assert owner.sign_up("ada@example.com").status_code == 200
    _with_password(rt, tenant, pool, owner)
    assert _password(owner, "ada@example.com", PASSWORD).status_code == 200

    attacker = PoolBrowser(client, tenant.id, pool.id)
    # A fullwidth letter in the domain (IDNA maps it), upper case, stray spaces: one account.
    spellings = ["ada@\uff45xample.com", "ADA@EXAMPLE.COM", " ada@example.com "]
    # Every attempt counts, the owner's sign-in above too.
    for n in range(pool_passwords.ACCOUNT_RULE.limit - 1):
        guess = _password(attacker, spellings[n % len(spellings)], "wrong password")
        pool_error(guess, 401, "invalid_credentials")
    pool_error(_password(attacker, "ada@example.com", "wrong password"), 429, "rate_limited")
    # Another account keeps its own count.
    pool_error(_password(attacker, "bob@example.com", "wrong password"), 401, "invalid_credentials")


def test_password_guesses_in_any_spelling_of_a_phone_number_share_one_count(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    directories.create(rt, tenant.id, "phones", {"phone_number": "required"})
    pool = pools.configure(rt, tenant.id, "phones", {"bot_check": False, "password": True})
    owner = PoolBrowser(client, tenant.id, pool.id)
    assert owner.sign_up("+14155550100").status_code == 200
    _with_password(rt, tenant, pool, owner)
    assert _password(owner, "+1 415 555 0100", PASSWORD).status_code == 200

    spellings = ["+1-415-555-0100", "+1 (415) 555-0100", "+1.415.555.0100"]
    for n in range(pool_passwords.ACCOUNT_RULE.limit - 1):
        guess = _password(owner, spellings[n % len(spellings)], "wrong password")
        pool_error(guess, 401, "invalid_credentials")
    pool_error(_password(owner, "+14155550100", PASSWORD), 429, "rate_limited")


def test_anonymous_v1_challenges_are_limited_like_their_neighbours(
    rt: Runtime, tenant: Tenant
) -> None:
    limited = with_limits(rt, per_ip=Rule(3, 60))
    basic = {"authorization": "Basic " + base64.b64encode(tenant.id.encode()).decode()}
    with TestClient(create_app(limited, Settings())) as client:
        # The owner's sign-in: a challenge, then options for it.
        first = client.post("/v1/client/challenge", json={"action": "signIn"}, headers=basic)
        assert first.status_code == 200, first.text
        options = client.post(
            "/v1/client/user-authenticators/passkey/authentication-options",
            json={"challengeId": first.json()["challengeId"]},
            headers=basic,
        )
        assert options.status_code == 200, options.text
        # A flood of challenges stops at the limit (each is a sealed id: nothing is stored).
        answers = [client.post("/v1/client/challenge", json={}, headers=basic) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 429, 429]
    assert answers[1].json()["errorCode"] == "rate_limited"
    assert int(answers[1].headers["retry-after"]) >= 1
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(challenges)).scalar_one() == 0


def _recover(browser: PoolBrowser, identifier: str) -> Any:
    answer = browser.post("recovery/begin", {"identifier": identifier})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"flow_id", "state"}
    assert answer.json()["state"] == "code_sent"
    return answer


def test_recovery_mails_to_one_account_are_limited_quietly(
    rt: Runtime, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    pool = make_pool(rt, tenant, email_sender="login@example.com")
    owner = PoolBrowser(client, tenant.id, pool.id)
    assert owner.sign_up("ada@example.com").status_code == 200
    attacker = PoolBrowser(TestClient(client.app), tenant.id, pool.id)  # its own cookies
    _recover(attacker, "ada@example.com")
    _recover(attacker, "ADA@example.com")
    _recover(owner, "ada@example.com")
    assert len(mails(rt)) == recovery_limits.MAILS
    # Past the limit: the same answer, no mail, whatever the spelling.
    for spelling in ("ada@example.com", "ada@\uff45xample.com", " Ada@Example.com"):
        _recover(attacker, spelling)
    assert len(mails(rt)) == recovery_limits.MAILS
    # The owner's mailed code still works.
    code, _ = code_and_link(mails(rt)[-1])
    assert owner.post("recovery/verify", {"code": code}).status_code == 200
    # After the window, mail goes again.
    clock.advance(minutes=16)
    _recover(owner, "ada@example.com")
    assert len(mails(rt)) == recovery_limits.MAILS + 1


def test_recovery_mails_to_one_address_are_limited_across_accounts(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    first = make_pool(rt, tenant, "first", email_sender="login@example.com")
    second = make_pool(rt, tenant, "second", email_sender="login@example.com")
    in_first = PoolBrowser(client, tenant.id, first.id)
    in_second = PoolBrowser(client, tenant.id, second.id)
    assert in_first.sign_up("ada@example.com").status_code == 200
    assert in_second.sign_up("ada@example.com").status_code == 200
    _recover(in_first, "ada@example.com")
    _recover(in_first, "ada@example.com")
    _recover(in_second, "ada@example.com")
    unknown = _recover(in_second, "nobody@example.com")
    limited = _recover(in_second, "ada@example.com")
    assert len(mails(rt)) == recovery_limits.MAILS
    # A limited answer looks like any other, an unknown account's included.
    assert unknown.headers.get("set-cookie", "").split("=")[0] == "latchkey_flow"
    assert limited.headers.get("set-cookie", "").split("=")[0] == "latchkey_flow"


def test_native_sign_in_options_reveal_no_account(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    """Issue 21 item 7: the identifier of our passkey/challenge extension narrows nothing."""
    app = mobile_app(rt, tenant)
    owner = NativeApp(client, tenant, app, ANDROID_ORIGIN)
    assert owner.sign_up("ada@example.com").status_code == 200
    asked = [
        owner.post("/passkey/challenge", {"client_id": app.client_id, "identifier": identifier})
        for identifier in ({"email": "ada@example.com"}, {"email": "eve@example.com"}, None)
    ]
    for answer in asked:
        assert answer.status_code == 200, answer.text
        options = answer.json()["authn_params_public_key"]
        assert options.get("allowCredentials", []) == []
        assert set(options) == set(asked[-1].json()["authn_params_public_key"])
    assert owner.sign_in().status_code == 200


def _page_flow(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'data-flow="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_hosted_page_gets_write_no_flow_rows(
    rt: Runtime, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    """Issue 21 item 8: a page's flow is stored by the browser's first POST in it, not by the
    GET; the owner's sign-up and sign-in through the pages' flows work as before."""
    pool = make_pool(rt, tenant)
    base = f"/{tenant.id}/identity/{pool.id}"
    for _ in range(20):
        assert client.get(f"{base}/signin").status_code == 200
        assert client.get(f"{base}/signup").status_code == 200
    assert count(rt, flows) == 0

    owner = PoolBrowser(client, tenant.id, pool.id)
    flow_id = _page_flow(client, f"{base}/signup")
    begun = owner.post(
        "register/webauthn/begin", {"identifier": "ada@example.com", "flow_id": flow_id}
    )
    assert begun.status_code == 200, begun.text
    assert begun.json()["flow_id"] == flow_id
    made = owner.authenticator.create(begun.json()["publicKey"], origin=ORIGIN)
    assert owner.post("register/webauthn/finish", made, flow_id=flow_id).status_code == 200
    assert count(rt, flows) == 1

    flow_id = _page_flow(client, f"{base}/signin")
    options = owner.post("login/webauthn/options", {"flow_id": flow_id})
    assert options.status_code == 200, options.text
    assertion = owner.authenticator.get(options.json()["publicKey"], origin=ORIGIN)
    assert owner.post("login/webauthn/finish", assertion, flow_id=flow_id).status_code == 200
    assert count(rt, flows) == 2
    # The finished flow is not written again by a replay of its cookie.
    replay = owner.post("login/webauthn/options", {"flow_id": flow_id})
    pool_error(replay, 403, "flow_cookie_missing")  # the finish expired the cookie


def test_a_pending_flow_cannot_be_forged_or_outlive_its_expiry(
    rt: Runtime, client: TestClient, tenant: Tenant, clock: FakeClock
) -> None:
    pool = make_pool(rt, tenant)
    base = f"/{tenant.id}/identity/{pool.id}"
    visitor = PoolBrowser(client, tenant.id, pool.id)
    flow_id = _page_flow(client, f"{base}/signin")
    cookie = client.cookies.get("latchkey_flow")
    assert cookie
    assert cookie.startswith(flow_id + ".")
    # Another expiry in the same secret: the id no longer matches it.
    secret = cookie.split(".", 1)[1]
    forged = secret.replace(secret.split("~")[0], str(int(secret.split("~")[0]) + 86400), 1)
    client.cookies.set("latchkey_flow", f"{flow_id}.{forged}", path=f"{base}/")
    pool_error(visitor.post("login/webauthn/options", {"flow_id": flow_id}), 403, "flow_mismatch")
    client.cookies.set("latchkey_flow", cookie, path=f"{base}/")
    clock.advance(minutes=16)
    pool_error(visitor.post("login/webauthn/options", {"flow_id": flow_id}), 410, "flow_expired")
    assert count(rt, flows) == 0


def test_a_bot_check_solution_works_only_for_the_flow_that_asked(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    """Issue 21 item 5: a recovery page's solution does not start another recovery, nor a
    sign-up elsewhere; the page's own flow accepts it and the mail goes."""
    pool = make_pool(rt, tenant, bot_check=True, email_sender="login@example.com")
    base = f"/{tenant.id}/identity/{pool.id}"
    owner = PoolBrowser(client, tenant.id, pool.id)
    farmer = PoolBrowser(TestClient(client.app), tenant.id, pool.id)
    page_flow = _page_flow(client, f"{base}/recovery")
    solution = solve(client.get(f"{base}/botcheck/challenge", params={"flow": page_flow}).json())
    # The same solution in the farmer's own flows: refused, nothing written or mailed.
    farmer_flow = farmer.http.get(f"{base}/botcheck/challenge").json()["flow_id"]
    for path, body in (
        ("recovery/begin", {"identifier": "ada@example.com", "flow_id": farmer_flow}),
        ("recovery/begin", {"identifier": "ada@example.com"}),
        ("register/webauthn/begin", {"identifier": "eve@example.com", "flow_id": farmer_flow}),
    ):
        pool_error(farmer.post(path, {**body, "altcha": solution}), 400, "bot_check_failed")
    assert count(rt, flows) == 0
    # The owner's page: the solution its flow asked for works.
    begun = owner.post(
        "recovery/begin",
        {"identifier": "ada@example.com", "altcha": solution, "flow_id": page_flow},
    )
    assert begun.status_code == 200, begun.text
    assert begun.json()["flow_id"] == page_flow
    assert count(rt, flows) == 1


def test_the_bot_check_costs_what_the_pool_sets(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    pool = make_pool(rt, tenant, bot_check=True)
    base = f"/{tenant.id}/identity/{pool.id}"
    assert client.get(f"{base}/botcheck/challenge").json()["maxnumber"] == 50_000
    pools.configure(rt, tenant.id, pool.id, {"bot_check_complexity": 400_000})
    assert client.get(f"{base}/botcheck/challenge").json()["maxnumber"] == 400_000
    for bad in (10, 10**9, True, "5"):
        with pytest.raises(InvalidRequest, match="bot_check_complexity"):
            pools.configure(rt, tenant.id, pool.id, {"bot_check_complexity": bad})
