"""Identity-pool recovery (reset passkey) and account endpoints: codes and links single-use,
hashed and limited, answers that never reveal an account, and the account's passkeys."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey import event_kinds
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import pools
from latchkey.services.pools import recovery
from latchkey.store.tables import credentials, events, recovery_codes, sso_sessions
from latchkey.testing.authenticator import SoftAuthenticator
from tests.support.clock import FakeClock
from tests.support.mail import code_and_link, mails
from tests.support.pools import PoolBrowser, count, make_pool, pool_error
from tests.support.pools import begin_recovery as begin
from tests.web_parties import ORIGIN


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example", email_sender="login@example.com")


@pytest.fixture
def member(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    browser = PoolBrowser(client, tenant.id, pool.id)
    assert browser.sign_up("ada@example.com").status_code == 200
    return browser


def test_recovery_by_code_makes_a_new_passkey_that_replaces_the_lost_one(
    rt: Runtime, client: TestClient, member: PoolBrowser
) -> None:
    lost = member.authenticator
    client.cookies.clear()  # a new device: no session, no passkey
    member.authenticator = SoftAuthenticator(backup_eligible=True, backup_state=True)
    begun = begin(member, "ADA@example.com")
    assert begun.status_code == 200, begun.text
    (mail,) = mails(rt)
    assert mail.recipient == "ada@example.com"
    assert mail.sender == "login@example.com"
    code, _ = code_and_link(mail)
    assert code not in mail.stored_text  # sealed at rest
    assert code not in mail.subject
    with rt.engine.connect() as conn:
        stored = conn.execute(select(recovery_codes)).one()
    assert code.encode() not in stored.code_hash  # only an HMAC is kept

    verified = member.post("recovery/verify", {"code": code, "flow_id": begun.json()["flow_id"]})
    assert verified.status_code == 200, verified.text
    options = member.post("register/webauthn/begin", {"flow_id": verified.json()["flow_id"]})
    assert options.status_code == 200, options.text
    made = member.authenticator.create(options.json()["publicKey"], origin=ORIGIN)
    done = member.post("register/webauthn/finish", made, flow_id=verified.json()["flow_id"])
    assert done.status_code == 200, done.text
    assert done.json()["signup"] is False

    account = member.http.get(f"{member.base}/account/passkeys")
    assert account.status_code == 200, account.text
    assert len(account.json()["passkeys"]) == 1  # the new one replaced the lost one
    # The lost device's passkey no longer signs in.
    thief = PoolBrowser(client, member.base.split("/")[1], member.base.split("/")[3])
    thief.authenticator = lost
    pool_error(thief.sign_in(), 404, "credential_not_found")
    kinds = [row.kind for row in _events(rt) if row.kind.startswith("pool.")]
    assert kinds.count("pool.signed_up") == 1
    assert kinds.count("pool.passkey_added") == 1
    assert {
        event_kinds.POOL_RECOVERY_REQUESTED,
        event_kinds.POOL_RECOVERED,
        "pool.passkeys_replaced",
    } <= set(kinds)


def _events(rt: Runtime) -> list[Any]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(events)))


def test_the_answer_is_the_same_for_an_unknown_account(
    rt: Runtime, member: PoolBrowser, client: TestClient
) -> None:
    known = begin(member, "ada@example.com")
    unknown = begin(member, "nobody@example.com")
    malformed = begin(member, "not an email")
    for answer in (known, unknown, malformed):
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"flow_id", "state"}
        assert answer.json()["state"] == "code_sent"
    assert len(mails(rt)) == 1
    # Wrong codes end the same way for both: invalid, then too many attempts.
    for flow in (known, unknown):
        client.cookies.set("latchkey_flow", flow.cookies["latchkey_flow"], path=f"{member.base}/")
        for _ in range(recovery.MAX_ATTEMPTS):
            wrong = member.post("recovery/verify", {"code": "000000"})
            pool_error(wrong, 400, "recovery_code_invalid")
        pool_error(
            member.post("recovery/verify", {"code": "000000"}), 429, "recovery_attempts_exceeded"
        )


def test_the_attempt_limit_holds_even_for_the_right_code(rt: Runtime, member: PoolBrowser) -> None:
    assert begin(member, "ada@example.com").status_code == 200
    code, _ = code_and_link(mails(rt)[0])
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(recovery.MAX_ATTEMPTS):
        pool_error(member.post("recovery/verify", {"code": wrong}), 400, "recovery_code_invalid")
    pool_error(member.post("recovery/verify", {"code": code}), 429, "recovery_attempts_exceeded")


def test_a_code_works_once_and_expires(
    rt: Runtime, member: PoolBrowser, client: TestClient, clock: FakeClock
) -> None:
    begun = begin(member, "ada@example.com")
    code, link = code_and_link(mails(rt)[0])
    cookie = begun.cookies["latchkey_flow"]
    assert member.post("recovery/verify", {"code": code}).status_code == 200
    client.cookies.set("latchkey_flow", cookie, path=f"{member.base}/")
    pool_error(member.post("recovery/verify", {"code": code}), 400, "flow_used")
    pool_error(member.post("recovery/link", {"token": link}), 400, "flow_used")

    client.cookies.clear()
    begin(member, "ada@example.com")
    code, link = code_and_link(mails(rt)[1])
    clock.advance(minutes=16)
    pool_error(member.post("recovery/link", {"token": link}), 410, "recovery_code_expired")
    pool_error(member.post("recovery/verify", {"code": code}), 410, "flow_expired")


def test_the_link_works_in_another_browser_once(
    rt: Runtime, member: PoolBrowser, client: TestClient
) -> None:
    begin(member, "ada@example.com")
    _, link = code_and_link(mails(rt)[0])
    client.cookies.clear()
    followed = member.post("recovery/link", {"token": link})
    assert followed.status_code == 200, followed.text
    pool_error(member.post("recovery/link", {"token": link}), 400, "flow_used")
    pool_error(member.post("recovery/link", {"token": "x" * 43}), 400, "recovery_code_invalid")


def test_account_needs_a_session_of_this_pool(
    rt: Runtime, client: TestClient, tenant: Tenant, member: PoolBrowser
) -> None:
    staff = make_pool(rt, tenant, "staff")
    other = PoolBrowser(client, tenant.id, staff.id)
    pool_error(client.get(f"{other.base}/account/passkeys"), 401, "not_signed_in")
    client.cookies.clear()
    pool_error(client.get(f"{member.base}/account/passkeys"), 401, "not_signed_in")


def test_rename_delete_and_the_last_passkey(
    rt: Runtime, member: PoolBrowser, tenant: Tenant
) -> None:
    base = f"{member.base}/account/passkeys"
    (only,) = member.http.get(base).json()["passkeys"]
    renamed = member.http.patch(f"{base}/{only['id']}", json={"name": "  My phone "})
    assert renamed.status_code == 200, renamed.text
    assert member.http.get(base).json()["passkeys"][0]["name"] == "My phone"
    pool_error(
        member.http.patch(f"{base}/{only['id']}", json={"name": " "}), 400, "invalid_request"
    )
    pool_error(member.http.patch(f"{base}/nope", json={"name": "x"}), 404, "credential_not_found")
    pool_error(member.http.delete(f"{base}/{only['id']}"), 403, "last_passkey")
    assert count(rt, credentials) == 1

    added = member.http.post(base)
    assert added.status_code == 200, added.text
    # The same authenticator is excluded (it holds a passkey of this account already).
    with pytest.raises(ValueError, match="excluded"):
        member.authenticator.create(added.json()["publicKey"], origin=ORIGIN)
    session_cookie = member.http.cookies[f"latchkey_sso_{tenant.id}"]
    made = SoftAuthenticator().create(added.json()["publicKey"], origin=ORIGIN)
    finished = member.post("register/webauthn/finish", made, flow_id=added.json()["flow_id"])
    assert finished.status_code == 200, finished.text
    assert len(member.http.get(base).json()["passkeys"]) == 2
    # Adding a passkey is no new sign-in: the session (its auth_time and amr) goes on as it was.
    assert f"latchkey_sso_{tenant.id}" not in finished.headers.get("set-cookie", "")
    assert member.http.cookies[f"latchkey_sso_{tenant.id}"] == session_cookie
    assert count(rt, sso_sessions) == 1
    assert member.http.delete(f"{base}/{only['id']}").status_code == 200
    assert count(rt, credentials) == 1


def test_the_passkey_limit(
    rt: Runtime, member: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.configure(rt, tenant.id, pool.id, {"max_passkeys": 1})
    pool_error(member.http.post(f"{member.base}/account/passkeys"), 403, "passkey_limit_reached")


def test_sign_out_ends_the_session(rt: Runtime, member: PoolBrowser, tenant: Tenant) -> None:
    assert member.post("logout", {}).status_code == 200
    pool_error(member.http.get(f"{member.base}/account/passkeys"), 401, "not_signed_in")
    with rt.engine.connect() as conn:
        assert conn.execute(select(sso_sessions.c.revoked_at)).scalar_one() is not None
