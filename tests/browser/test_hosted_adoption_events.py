"""The hosted sign-in page in Chromium writes what the adoption funnel counts: its load, each
sign-in's method (autofill, button, identifier first, password) with the time since the page
loaded, and the passkey offer after a password sign-in shown and declined; the funnel then
counts them (services/adoption.py over the live server's database)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from latchkey.runtime import Runtime
from latchkey.services import adoption, pools
from latchkey.store.engine import make_engine
from latchkey.store.tables import events
from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.support.hosted_tab import autofill_waiting, pool_url, sign_out
from tests.support.hosted_tab import set_password as _set_password


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"LATCHKEY_CHALLENGE_RATE_LIMIT": "1000/60"}
    with live_server(tmp_path_factory.mktemp("funnel"), env=env) as server:
        server.cli(
            "directory", "create", server.tenant_id, "staff", "--identifier", "email=required"
        )
        server.cli(
            "pool", "configure", server.tenant_id, "staff",
            "--identifier-first", "on", "--bot-check", "off", "--password", "on",
        )  # fmt: skip
        yield server


@pytest.fixture
def runtime(hosted: LiveServer) -> Iterator[Runtime]:
    engine = make_engine(hosted.database_url)
    yield Runtime(engine=engine, master_key=secrets.token_bytes(32))
    engine.dispose()


def logged(rt: Runtime, kind: str, count: int) -> list[Any]:
    """The events of this kind once there are `count` (the page reports in the background)."""
    for _ in range(100):
        with rt.read() as conn:
            found = list(
                conn.execute(
                    select(events).where(events.c.kind == kind).order_by(events.c.created_at)
                )
            )
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{len(found)} {kind} events, not {count}")


def waiting_for_a_pick(tab: Tab) -> None:
    """Signed out, on the sign-in page whose autofill request waits for a pick (it has asked
    for its options and called the browser before presence is simulated again)."""
    with autofill_waiting(tab):
        with tab.page.expect_response(lambda r: "login/webauthn/options" in r.url):
            sign_out(tab)
        tab.page.wait_for_timeout(500)


def test_the_sign_in_page_writes_the_funnels_events(
    blank_tab: Any, hosted: LiveServer, runtime: Runtime
) -> None:
    owner: Tab = blank_tab()
    owner.page.goto(pool_url(hosted, "staff", "signup"))
    owner.page.fill("#email", "grace@example.com")
    owner.page.click("#signup-submit")
    owner.page.wait_for_url(re.compile(r".*/account$"))
    _set_password(hosted, "staff", "grace@example.com", "correct horse battery")

    # Autofill: the virtual authenticator answers the page's conditional request at once.
    sign_out(owner)
    owner.page.wait_for_url(re.compile(r".*/account$"))
    [autofill] = logged(runtime, "pool.signed_in", 1)
    assert autofill.detail["method"] == "autofill"
    assert 0 < autofill.detail["elapsed_ms"] < 60_000
    # The button, while autofill waits for a pick.
    waiting_for_a_pick(owner)
    owner.page.click("#passkey-button")
    owner.page.wait_for_url(re.compile(r".*/account$"))
    assert logged(runtime, "pool.signed_in", 2)[1].detail["method"] == "button"
    # Identifier first.
    waiting_for_a_pick(owner)
    owner.page.fill("#identifier", "grace@example.com")
    owner.page.click("#continue")
    owner.page.wait_for_url(re.compile(r".*/account$"))
    assert logged(runtime, "pool.signed_in", 3)[2].detail["method"] == "identifier"

    # Another device: the password, then the offer, declined.
    tab: Tab = blank_tab()
    tab.page.goto(pool_url(hosted, "staff", "signin"))
    tab.page.fill("#identifier", "grace@example.com")
    tab.page.fill("#password", "correct horse battery")
    tab.page.click("#password-submit")
    tab.page.wait_for_selector("#offer:not([hidden])")
    [password] = logged(runtime, "pool.password_sign_in", 1)
    assert password.detail["method"] == "password"
    assert password.detail["elapsed_ms"] > 0
    [shown] = logged(runtime, "pool.passkey_offer_shown", 1)
    tab.page.click("#offer-skip")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    [declined] = logged(runtime, "pool.passkey_offer_declined", 1)
    assert shown.user_id == declined.user_id == password.user_id
    # Every sign-in page loaded reported itself (the owner's three, the other device's one).
    loaded = logged(runtime, "pool.page_loaded", 4)
    assert len(loaded) == 4
    assert {e.detail["pool_id"] for e in loaded} == {
        pools.get(runtime, hosted.tenant_id, "staff").id
    }

    now = runtime.now()
    found = adoption.for_tenant(runtime, hosted.tenant_id, since=now - timedelta(hours=1),
                                until=now + timedelta(minutes=1), pool="staff")  # fmt: skip
    assert dict(found.methods) == {"autofill": 1, "button": 1, "identifier": 1, "passkey": 0,
                                   "password": 1, "recovery": 0}  # fmt: skip
    assert (found.users_signed_in, found.users_with_passkey) == (1, 1)
    assert (found.offers_shown, found.offers_accepted, found.offers_declined) == (1, 0, 1)
    assert found.timed == 4
