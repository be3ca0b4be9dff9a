"""Account lifecycle (issue 21 item 1), on SQLite and PostgreSQL: pre-hijacking a pool account
fails (the e-mail's verified owner takes the account over cleanly from whoever signed up with
it), a recovery's new passkey replaces the lost ones and ends every session and refresh token,
and `email_verified` says whether the address was proved (ID token, userinfo, /v1 user)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey import event_kinds
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.store.tables import credentials, events, flows, users
from tests.support.mail import code_and_link, mails
from tests.support.oidc import Device, make_app
from tests.support.oidc import app_tokens as _tokens
from tests.support.oidc import new_device as _device
from tests.support.pools import PoolBrowser, make_pool, pool_error, recover
from tests.support.pools import begin_recovery as begin


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example", email_sender="login@example.com")


@pytest.fixture
def app(rt: Runtime, tenant: Tenant) -> App:
    return make_app(rt, tenant)[0]


def new_browser(client: TestClient, tenant: Tenant, app: App, pool: pools.Pool) -> Device:
    """Another person's browser (own cookies) with their own authenticator."""
    return _device(TestClient(client.app, raise_server_exceptions=False), tenant, app, pool)


def _kinds(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return [r.kind for r in conn.execute(select(events).order_by(events.c.created_at))]


def _v1_user(http: TestClient, secret: str, external_id: str) -> dict[str, Any]:
    auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
    answer = http.get(f"/v1/users/{external_id}", headers={"authorization": auth})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_pre_hijacking_fails_the_owner_takes_the_account_over(
    rt: Runtime,
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    app: App,
    pool: pools.Pool,
) -> None:
    tenant, secret = tenant_and_secret
    # The attacker signs up first with Ada's address and their own passkey, and signs in to
    # the app: the address is not theirs, and every token says it is unverified.
    attacker = _device(client, tenant, app, pool)
    assert attacker.browser.sign_up("ada@example.com").status_code == 200
    attacker.tokens = _tokens(attacker.rp)
    claims = attacker.rp.claims(attacker.tokens["id_token"])
    assert (claims["email"], claims["email_verified"]) == ("ada@example.com", False)
    assert attacker.userinfo().json()["email_verified"] is False
    with rt.engine.connect() as conn:
        account = conn.execute(select(users)).one()
    assert _v1_user(client, secret, account.external_id)["emailVerified"] is False

    # Ada cannot sign up (the address is taken), so she resets the passkey by e-mail.
    ada = new_browser(client, tenant, app, pool)
    pool_error(ada.browser.begin_signup("ada@example.com"), 409, "identifier_taken")
    done = recover(rt, ada.browser, "ada@example.com")
    assert done.status_code == 200, done.text
    assert done.json()["user_id"] == account.id

    # The attacker is out: passkey, browser session, prompt=none and refresh token all fail.
    pool_error(attacker.browser.sign_in(), 404, "credential_not_found")
    assert attacker.silent_sign_in()["error"] == "login_required"
    assert attacker.refresh().json()["error"] == "invalid_grant"
    assert attacker.rp.http.get(f"{attacker.browser.base}/account/passkeys").status_code == 401
    with rt.engine.connect() as conn:
        (kept,) = conn.execute(select(credentials)).all()
        taken = conn.execute(
            select(events).where(events.c.kind == event_kinds.POOL_ACCOUNT_TAKEN_OVER)
        ).one()
    assert taken.user_id == account.id
    assert len(taken.detail["passkeys_removed"]) == 1
    assert kept.id not in taken.detail["passkeys_removed"]

    # Ada's journey: her new passkey signs in, and her tokens say the address is verified.
    ada.tokens = _tokens(ada.rp)
    claims = ada.rp.claims(ada.tokens["id_token"])
    assert (claims["email"], claims["email_verified"]) == ("ada@example.com", True)
    assert ada.userinfo().json()["email_verified"] is True
    assert _v1_user(client, secret, account.external_id)["emailVerified"] is True
    assert ada.refresh().status_code == 200
    ada.rp.http.cookies.clear()
    assert ada.browser.sign_in().status_code == 200


def test_recovery_of_a_verified_account_replaces_its_passkeys_and_ends_every_session(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    laptop = _device(client, tenant, app, pool)
    assert laptop.browser.sign_up("ada@example.com").status_code == 200
    assert recover(rt, laptop.browser, "ada@example.com").status_code == 200  # proves it
    laptop.tokens = _tokens(laptop.rp)
    assert event_kinds.POOL_ACCOUNT_TAKEN_OVER in _kinds(rt)  # the first proof, of her own sign-up

    # The laptop is lost; Ada resets her passkey on a new phone.
    phone = new_browser(client, tenant, app, pool)
    assert recover(rt, phone.browser, "ada@example.com").status_code == 200
    assert _kinds(rt).count(event_kinds.POOL_ACCOUNT_TAKEN_OVER) == 1  # verified: no takeover now
    assert _kinds(rt).count(event_kinds.POOL_PASSKEYS_REPLACED) == 2

    pool_error(laptop.browser.sign_in(), 404, "credential_not_found")
    assert laptop.silent_sign_in()["error"] == "login_required"
    assert laptop.refresh().json()["error"] == "invalid_grant"
    phone.tokens = _tokens(phone.rp)
    assert phone.refresh().status_code == 200
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(credentials)).all()) == 1


def test_a_pool_may_keep_the_old_passkeys_and_the_page_says_so(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    laptop = _device(client, tenant, app, pool)
    assert laptop.browser.sign_up("ada@example.com").status_code == 200
    assert recover(rt, laptop.browser, "ada@example.com").status_code == 200
    laptop.tokens = _tokens(laptop.rp)
    page = client.get(f"{laptop.browser.base}/recovery")
    assert "The new passkey replaces your old ones" in page.text

    pools.configure(rt, tenant.id, pool.id, {"recovery_keeps_passkeys": True})
    page = client.get(f"{laptop.browser.base}/recovery")
    assert "Your old passkeys stay on your account" in page.text
    assert f'href="{laptop.browser.base}/account"' in page.text

    phone = new_browser(client, tenant, app, pool)
    assert recover(rt, phone.browser, "ada@example.com").status_code == 200
    # The old passkey still signs in (the page said so), but what it had open has ended.
    assert laptop.silent_sign_in()["error"] == "login_required"
    assert laptop.refresh().json()["error"] == "invalid_grant"
    account = phone.rp.http.get(f"{phone.browser.base}/account/passkeys")
    assert len(account.json()["passkeys"]) == 2
    assert laptop.browser.sign_in().status_code == 200


def test_a_recovery_link_of_another_kind_of_flow_is_refused(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    """The recovery link follows only a recovery flow's code (other flows mail codes too)."""
    browser = PoolBrowser(client, tenant.id, pool.id)
    assert browser.sign_up("ada@example.com").status_code == 200
    begin(browser, "ada@example.com")
    _, link = code_and_link(mails(rt)[-1])
    with rt.engine.begin() as conn:
        conn.execute(flows.update().values(kind="settings"))
    pool_error(browser.post("recovery/link", {"token": link}), 400, "recovery_code_invalid")
