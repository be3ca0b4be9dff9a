"""A sign-up's e-mail address is proved by a mailed code or link (issue 21 item 1), on SQLite
and PostgreSQL: `optional` pools let the account work at once with `email_verified: false`
until proved, `required` pools open no session and refuse sign-ins until then, and neither the
code nor the link works outside the browser that signed up (one click of the address's owner
must not vouch for a stranger's passkey)."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey import event_kinds
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.store.tables import events, users
from tests.support.mail import Mail, code_and_link, mails
from tests.support.pools import PoolBrowser, make_pool, pool_error, recover

CONFIRM = "Confirm the e-mail address"


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


def _pool(rt: Runtime, tenant: Tenant, mode: str) -> pools.Pool:
    return make_pool(rt, tenant, email_sender="login@example.com", email_verification=mode)


def _confirmations(rt: Runtime) -> list[Mail]:
    return [m for m in mails(rt) if m.subject.startswith(CONFIRM)]


def _email_verified(client: TestClient, secret: str, rt: Runtime) -> bool:
    with rt.engine.connect() as conn:
        external = conn.execute(select(users.c.external_id)).scalar_one()
    auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
    answer = client.get(f"/v1/users/{external}", headers={"authorization": auth})
    return bool(answer.json()["emailVerified"])


def _other_browser(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    return PoolBrowser(TestClient(client.app, raise_server_exceptions=False), tenant.id, pool.id)


def test_optional_the_account_works_at_once_and_the_link_proves_the_address(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, secret = tenant_and_secret
    pool = _pool(rt, tenant, "optional")
    ada = PoolBrowser(client, tenant.id, pool.id)
    done = ada.sign_up("ada@example.com")
    assert done.status_code == 200, done.text
    assert "verification_required" not in done.json()
    assert done.json()["redirect_to"].endswith("/account")
    assert client.cookies.get(f"latchkey_sso_{tenant.id}")  # signed in at once
    (mail,) = _confirmations(rt)
    assert mail.recipient == "ada@example.com"
    code, link = code_and_link(mail)
    assert code not in mail.stored_text
    assert not _email_verified(client, secret, rt)

    # The owner of the address clicking the link elsewhere vouches for nothing.
    stranger = _other_browser(client, tenant, pool)
    pool_error(stranger.post("verification/link", {"token": link}), 403, "flow_cookie_missing")
    pool_error(stranger.post("verification/verify", {"code": code}), 403, "flow_cookie_missing")
    assert not _email_verified(client, secret, rt)

    page = client.get(f"{ada.base}/verify", params={"token": link})
    assert page.status_code == 200
    assert 'data-page="verify"' in page.text
    proved = ada.post("verification/link", {"token": link})
    assert proved.status_code == 200, proved.text
    assert proved.json()["verified"] is True
    assert _email_verified(client, secret, rt)
    pool_error(ada.post("verification/link", {"token": link}), 403, "flow_cookie_missing")
    with rt.engine.connect() as conn:
        kinds = [r.kind for r in conn.execute(select(events.c.kind))]
    assert kinds.count(event_kinds.POOL_EMAIL_VERIFIED) == 1


def test_required_no_session_until_the_code_and_sign_ins_refused(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, secret = tenant_and_secret
    pool = _pool(rt, tenant, "required")
    ada = PoolBrowser(client, tenant.id, pool.id)
    done = ada.sign_up("ada@example.com")
    assert done.status_code == 200, done.text
    assert done.json()["verification_required"] is True
    flow = done.json()["redirect_to"].split("flow=")[1]
    assert done.json()["redirect_to"] == f"{ada.base}/verify?flow={flow}"
    assert not client.cookies.get(f"latchkey_sso_{tenant.id}")
    pool_error(client.get(f"{ada.base}/account/passkeys"), 401, "not_signed_in")
    assert client.get(f"{ada.base}/verify", params={"flow": flow}).status_code == 200

    # Signing in with the passkey is refused until the address is proved.
    other = _other_browser(client, tenant, pool)
    other.authenticator = ada.authenticator
    pool_error(other.sign_in(), 403, "email_unverified")

    (mail,) = _confirmations(rt)
    code, _ = code_and_link(mail)
    wrong = "111111" if code != "111111" else "222222"
    pool_error(
        ada.post("verification/verify", {"code": wrong, "flow_id": flow}),
        400,
        "recovery_code_invalid",
    )
    proved = ada.post("verification/verify", {"code": code, "flow_id": flow})
    assert proved.status_code == 200, proved.text
    assert proved.json()["redirect_to"] == f"{ada.base}/account"
    assert client.cookies.get(f"latchkey_sso_{tenant.id}")  # the sign-up's session, now
    assert client.get(f"{ada.base}/account/passkeys").status_code == 200
    assert _email_verified(client, secret, rt)
    assert other.sign_in().status_code == 200


def test_required_a_squatter_never_gets_in_and_the_owner_takes_the_address(
    rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, secret = tenant_and_secret
    pool = _pool(rt, tenant, "required")
    squatter = PoolBrowser(client, tenant.id, pool.id)
    assert squatter.sign_up("ada@example.com").json()["verification_required"] is True
    pool_error(squatter.sign_in(), 403, "email_unverified")

    ada = _other_browser(client, tenant, pool)
    done = recover(rt, ada, "ada@example.com")
    assert done.status_code == 200, done.text
    assert ada.http.get(f"{ada.base}/account/passkeys").status_code == 200
    assert _email_verified(client, secret, rt)
    pool_error(squatter.sign_in(), 404, "credential_not_found")


def test_wrong_codes_are_failure_events_and_every_kind_is_a_webhook_type(
    rt: Runtime, client: TestClient, tenant: Tenant
) -> None:
    pool = _pool(rt, tenant, "required")
    ada = PoolBrowser(client, tenant.id, pool.id)
    flow = ada.sign_up("ada@example.com").json()["redirect_to"].split("flow=")[1]
    code, _ = code_and_link(_confirmations(rt)[0])
    wrong = "111111" if code != "111111" else "222222"
    answer = ada.post("verification/verify", {"code": wrong, "flow_id": flow})
    pool_error(answer, 400, "recovery_code_invalid")
    with rt.engine.connect() as conn:
        failed = conn.execute(
            select(events.c.kind, events.c.reason).where(events.c.outcome == "failure")
        ).all()
    assert (event_kinds.POOL_EMAIL_VERIFIED, "recovery_code_invalid") in failed
    known = set(event_kinds.KINDS)
    assert {
        event_kinds.POOL_EMAIL_VERIFIED,
        event_kinds.POOL_ACCOUNT_TAKEN_OVER,
        event_kinds.POOL_PASSKEYS_REPLACED,
    } <= known


def test_off_mails_nothing(rt: Runtime, client: TestClient, tenant: Tenant) -> None:
    pool = _pool(rt, tenant, "off")
    assert PoolBrowser(client, tenant.id, pool.id).sign_up().status_code == 200
    assert _confirmations(rt) == []
