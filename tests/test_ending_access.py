"""Ending access ends it everywhere (issue 21 item 2), on SQLite and PostgreSQL: deleting a
passkey on any surface (account page, /v1, management API) ends the SSO sessions and the
refresh-token families its sign-ins opened, while the owner's other passkey, session and tokens
go on; disabling a user ends all of theirs and userinfo refuses their token; a refresh-token
family cannot outlive its absolute lifetime by rotating."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.errors import ConfigError
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import apps, operators, pools
from latchkey.store.tables import credentials, sso_sessions, users
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.clock import FakeClock
from tests.support.native import ANDROID_ORIGIN, FINGERPRINT, NativeApp
from tests.support.oidc import CALLBACK, Device, make_app, redirected
from tests.support.oidc import app_tokens as _tokens
from tests.support.oidc import new_device as _device
from tests.support.pools import make_pool
from tests.web_parties import ORIGIN

UA = {"user-agent": "lifecycle-test/1.0"}


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example")


@pytest.fixture
def app(rt: Runtime, tenant: Tenant) -> App:
    return make_app(rt, tenant)[0]


def two_devices(
    client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> tuple[Device, Device]:
    """Ada signs up on her laptop, adds her phone's passkey, and signs in on the phone; each
    device then gets the app's tokens."""
    laptop = _device(client, tenant, app, pool)
    assert laptop.browser.sign_up("ada@example.com").status_code == 200
    added = client.post(f"{laptop.browser.base}/account/passkeys")
    assert added.status_code == 200, added.text
    phone_key = SoftAuthenticator(backup_eligible=True, backup_state=True)
    made = phone_key.create(added.json()["publicKey"], origin=ORIGIN)
    done = laptop.browser.post("register/webauthn/finish", made, flow_id=added.json()["flow_id"])
    assert done.status_code == 200, done.text
    phone = _device(TestClient(client.app, raise_server_exceptions=False), tenant, app, pool)
    phone.browser.authenticator = phone_key
    assert phone.browser.sign_in().status_code == 200
    laptop.tokens = _tokens(laptop.rp)
    phone.tokens = _tokens(phone.rp)
    return laptop, phone


def _passkey_ids(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return [r.id for r in conn.execute(select(credentials).order_by(credentials.c.created_at))]


def _user(rt: Runtime) -> Any:
    with rt.engine.connect() as conn:
        return conn.execute(select(users)).one()


def _delete_on_account_page(phone: Device, passkey_id: str, **_: Any) -> Any:
    return phone.rp.http.delete(f"{phone.browser.base}/account/passkeys/{passkey_id}")


def _v1_delete(http: TestClient, secret: str, external_id: str, passkey_id: str) -> Any:
    return http.delete(
        f"/v1/users/{external_id}/authenticators/{passkey_id}",
        headers={"authorization": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()},
    )


def _delete_with_v1(phone: Device, passkey_id: str, *, secret: str, user: Any, **_: Any) -> Any:
    return _v1_delete(phone.rp.http, secret, user.external_id, passkey_id)


def _delete_with_admin_api(
    phone: Device, passkey_id: str, *, operator: str, user: Any, **_: Any
) -> Any:
    path = f"/admin/v1/tenants/{user.tenant_id}/users/{user.id}/passkeys/{passkey_id}"
    return phone.rp.http.delete(path, headers={"authorization": f"Bearer {operator}", **UA})


@pytest.mark.parametrize(
    "delete", [_delete_on_account_page, _delete_with_v1, _delete_with_admin_api]
)
def test_a_deleted_passkey_ends_its_sessions_and_refresh_tokens(
    rt: Runtime,
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    app: App,
    pool: pools.Pool,
    delete: Any,
) -> None:
    tenant, secret = tenant_and_secret
    laptop, phone = two_devices(client, tenant, app, pool)
    lost, kept = _passkey_ids(rt)
    _, operator = operators.create_token(rt, name="root")
    # The laptop is stolen: Ada removes its passkey from her phone (or her app / an operator).
    answer = delete(phone, lost, secret=secret, operator=operator, user=_user(rt))
    assert answer.status_code == 200, answer.text

    # The thief's browser session and the app's refresh token on the laptop are dead...
    refused = laptop.refresh()
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    assert laptop.silent_sign_in()["error"] == "login_required"
    account = laptop.rp.http.get(f"{laptop.browser.base}/account/passkeys")
    assert account.status_code == 401
    assert account.json()["error_code"] == "not_signed_in"
    # ...and stay dead after a rotation attempt of the last token the laptop held.
    assert laptop.refresh().status_code == 400

    # Ada's phone goes on: its session answers prompt=none and its family rotates.
    assert "code" in phone.silent_sign_in()
    assert phone.refresh().status_code == 200, phone.tokens
    assert phone.refresh().status_code == 200
    assert _passkey_ids(rt) == [kept]


def test_a_code_whose_session_ended_is_refused(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    laptop, phone = two_devices(client, tenant, app, pool)
    lost, _ = _passkey_ids(rt)
    back, params = redirected(laptop.rp.authorize())
    assert back == CALLBACK
    # The passkey goes between the code's issue and its exchange.
    assert _delete_on_account_page(phone, lost).status_code == 200
    late = laptop.rp.token(params["code"])
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"
    # The phone's own code flow still works.
    assert "refresh_token" in _tokens(phone.rp)


def test_disabling_a_user_ends_everything_and_userinfo_refuses_their_token(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    laptop, phone = two_devices(client, tenant, app, pool)
    assert laptop.userinfo().status_code == 200
    user = _user(rt)
    _, operator = operators.create_token(rt, name="root")
    admin = {"authorization": f"Bearer {operator}", **UA}
    path = f"/admin/v1/tenants/{tenant.id}/users/{user.id}"
    assert client.post(f"{path}/disable", headers=admin).status_code == 200

    for device in (laptop, phone):
        info = device.userinfo()  # the access token has not expired yet
        assert info.status_code == 401, info.text
        assert info.json()["error"] == "invalid_token"
        assert device.refresh().json()["error"] == "invalid_grant"
        assert device.silent_sign_in()["error"] == "login_required"
    with rt.engine.connect() as conn:
        live = conn.execute(select(sso_sessions).where(sso_sessions.c.revoked_at.is_(None)))
        assert live.all() == []

    # Enabled again, Ada signs in afresh and everything works.
    assert client.post(f"{path}/enable", headers=admin).status_code == 200
    assert phone.browser.sign_in().status_code == 200
    phone.tokens = _tokens(phone.rp)
    assert phone.userinfo().status_code == 200
    assert phone.refresh().status_code == 200


def test_a_refresh_family_ends_at_its_absolute_lifetime_however_often_it_rotates(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool, clock: FakeClock
) -> None:
    """Default: 30 days from the sign-in. Rotating every 20 days kept a family alive for ever."""
    device = _device(client, tenant, app, pool)
    assert device.browser.sign_up("ada@example.com").status_code == 200
    device.tokens = _tokens(device.rp)
    clock.advance(days=20)
    assert device.refresh().status_code == 200
    clock.advance(days=9)
    assert device.refresh().status_code == 200
    clock.advance(days=2)  # day 31: past the family's deadline, though not idle
    late = device.refresh()
    assert late.status_code == 400, late.text
    assert late.json()["error"] == "invalid_grant"

    # A new sign-in starts a new family, which works.
    assert device.browser.sign_in().status_code == 200
    device.tokens = _tokens(device.rp)
    assert device.refresh().status_code == 200


def test_an_apps_own_refresh_lifetime(
    rt: Runtime, client: TestClient, tenant: Tenant, app: App, pool: pools.Pool, clock: FakeClock
) -> None:
    apps.update(rt, app.client_id, refresh_token_lifetime=3600)
    app = apps.get(rt, app.client_id)
    device = _device(client, tenant, app, pool)
    assert device.browser.sign_up("ada@example.com").status_code == 200
    device.tokens = _tokens(device.rp)
    clock.advance(seconds=3000)
    assert device.refresh().status_code == 200
    clock.advance(seconds=700)
    assert device.refresh().json()["error"] == "invalid_grant"


@pytest.mark.parametrize("lifetime", [0, 59, 366 * 86400 + 1, "3600"])
def test_a_refresh_lifetime_out_of_range_is_refused(rt: Runtime, app: App, lifetime: Any) -> None:
    with pytest.raises(ConfigError, match="refresh token lifetime"):
        apps.update(rt, app.client_id, refresh_token_lifetime=lifetime)


def test_a_deleted_passkey_ends_the_native_grants_refresh_family(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, secret = tenant_and_secret
    mobile, _ = apps.create(
        rt,
        tenant.id,
        name="Mobile",
        android_package="com.example.app",
        android_fingerprints=[FINGERPRINT],
        grant_types=[apps.PASSKEY_GRANT, "refresh_token"],
    )
    held: dict[str, tuple[NativeApp, str]] = {}
    for email in ("ada@example.com", "bob@example.com"):
        phone = NativeApp(client, tenant, mobile, ANDROID_ORIGIN)
        made = phone.sign_up(email, scope="openid offline_access")
        assert made.status_code == 200, made.text
        held[email] = (phone, made.json()["refresh_token"])

    def refresh(email: str) -> Any:
        phone, token = held[email]
        answer = phone.post(
            "/oauth/token",
            {"grant_type": "refresh_token", "client_id": mobile.client_id, "refresh_token": token},
        )
        if answer.status_code == 200:
            held[email] = (phone, answer.json()["refresh_token"])
        return answer

    assert refresh("ada@example.com").status_code == 200
    with rt.engine.connect() as conn:
        ada = conn.execute(select(users).where(users.c.email == "ada@example.com")).one()
        (passkey,) = conn.execute(select(credentials).where(credentials.c.user_id == ada.id))
    assert _v1_delete(client, secret, ada.external_id, passkey.id).status_code == 200
    assert refresh("ada@example.com").json()["error"] == "invalid_grant"
    assert refresh("bob@example.com").status_code == 200
