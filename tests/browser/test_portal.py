"""The operator portal in Chromium with a virtual authenticator: the first operator enrols a
passkey from the link `latchkey admin create` prints (the real CLI on the server's database)
and signs in with it; creates a tenant, a bad origin refused with its reason as it is typed
and on submit; revokes a user's passkey, after which that passkey's sign-in (a real /v1
ceremony by the software authenticator) fails; filters the event log to that failure. Every
page is saved as a screenshot, light and dark, and no page reports a CSP violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from latchkey.testing.authenticator import SoftAuthenticator
from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.support.portal_tab import admin_create, at, shoot, watch_csp
from tests.web_parties import Backend, Browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("portal")) as running:
        yield running


def apart(page: Any, above: str, below: str) -> float:
    """Pixels between the bottom of one element and the top of the (card around the) next."""
    return float(
        page.evaluate(
            """([above, below]) => {
                const next = document.querySelector(below);
                const card = next.closest(".card") || next;
                const bottom = document.querySelector(above).getBoundingClientRect().bottom;
                return card.getBoundingClientRect().top - bottom;
            }""",
            [above, below],
        )
    )


# Whether a box is at least as wide as its content wants (a date input's scrollWidth never
# shows its clipped fields).
FITS = """box => {
    const e = document.querySelector(box);
    const now = e.offsetWidth;
    e.style.width = "max-content";
    const wanted = e.offsetWidth;
    e.style.width = "";
    return now >= wanted;
}"""


def user_with_passkey(server: LiveServer) -> tuple[Browser, httpx.Client]:
    """A tenant user signed up over /v1 with the software authenticator."""
    http = httpx.Client(base_url=server.url, timeout=10)
    backend = Backend(http, server.secret)  # type: ignore[arg-type]
    browser = Browser(http, server.tenant_id, origin=server.url, authenticator=SoftAuthenticator())
    tracked = backend.track("alice", "add-passkey", email="alice@example.com")
    assert browser.sign_up(tracked["token"]).status_code == 200
    assert browser.sign_in().json()["isVerified"] is True
    return browser, http


def test_operator_portal_end_to_end(blank_tab: Any, server: LiveServer) -> None:
    tab: Tab = blank_tab()
    problems = watch_csp(tab)
    page = tab.page

    # 1. The first operator enrols from the printed link, then signs in with that passkey.
    link = admin_create(server, "first@example.com")
    assert link.startswith(f"{server.url}/portal/enrol#token=")
    page.goto(link)
    assert "#token" not in page.url  # the secret leaves the address bar at once
    shoot(tab, "enrol")
    page.click("#passkey-enrol")
    at(tab, "/portal")
    [passkey] = tab.credentials()
    assert passkey["isResidentCredential"] is True
    assert passkey["rpId"] == "localhost"
    page.click("#sign-out")
    at(tab, "/portal/login")
    shoot(tab, "login")
    # Nothing said yet: the status line takes no room under the card's text.
    assert page.evaluate("document.querySelector('#status').getBoundingClientRect().height") == 0
    page.goto(link)  # the link was used: it cannot enrol again
    page.click("#passkey-enrol")
    page.wait_for_selector("#status.error")
    assert "used or expired" in page.inner_text("#status")
    page.goto(f"{server.url}/portal/login")
    page.click("#passkey-sign-in")
    at(tab, "/portal")
    assert "first@example.com" in page.inner_text(".who")

    # 2. A new tenant: every bad origin is refused with its reason as it is typed, and the
    # same list stays after a refused save; the tenants table and the card keep apart.
    page.fill("#name", "Example shop")
    page.fill("#rp_id", "example.com")
    typed = (
        "https://evil.test\nhttp://example.com\nhttps://shop.example.com\nhttps://shop.example.com"
    )
    page.fill("#origins", typed)
    page.wait_for_function("n => document.querySelectorAll('#origin-check li').length === n", arg=3)
    reasons = page.locator("#origin-check li").all_inner_texts()
    assert reasons == [
        "origin 'https://evil.test': host 'evil.test' is neither the RP ID 'example.com' nor a"
        " subdomain of it (an origin on another domain is a related origin: --related-origin)",
        "origin 'http://example.com' uses http://, allowed only for localhost; use https://",
        "origin 'https://shop.example.com' is listed twice",
    ]
    shoot(tab, "tenants-origin-refused")
    page.click("#create-tenant")
    page.wait_for_selector("#form-error")
    assert page.inner_text("#form-error") == "Not saved: fix the 3 problems shown below."
    assert page.locator("#origin-check li").all_inner_texts() == reasons
    assert page.input_value("#origins") == typed  # what was typed is kept
    assert apart(page, "table", "#new-tenant") >= 16
    shoot(tab, "tenants-refused")
    page.fill("#origins", "https://example.com\nhttps://shop.example.com")
    page.wait_for_selector("#origin-ok:not([hidden])")
    assert page.inner_text("#origin-check") == ""
    page.click("#create-tenant")
    page.wait_for_selector("#tenant-created")
    assert page.inner_text("#new-secret").startswith("lk_secret_")
    shoot(tab, "tenants")

    # 3. Revoke a user's passkey; its next sign-in fails.
    browser, http = user_with_passkey(server)
    base = f"{server.url}/portal/t/{server.tenant_id}"
    page.goto(f"{base}/users?q=alice")
    shoot(tab, "users")
    page.click("text=alice@example.com")
    page.wait_for_selector(".passkey")
    shoot(tab, "user")
    page.click(".passkey .revoke")
    page.wait_for_selector(".notice")
    assert "Passkey revoked" in page.inner_text(".notice")
    assert page.locator(".passkey").count() == 0
    failed = browser.sign_in()
    assert failed.status_code == 404
    assert failed.json()["errorCode"] == "credential_not_found"
    http.close()

    # 4. The event log: the user as the app knows them (its user id, their name, a link to
    # the user), found by the app's user id; date filters that show their whole value;
    # filtered to that failure (no user: the passkey was unknown); its detail.
    page.goto(f"{base}/events")
    page.fill("#user_id", "alice")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*user_id=alice.*"))
    assert page.locator("tr.event").count() >= 2
    assert set(page.locator(".event-user code").all_inner_texts()) == {"alice"}
    assert set(page.locator(".event-user a").all_inner_texts()) == {"alice@example.com"}
    for box in ("#since", "#until"):  # each as wide as its value and picker need
        page.fill(box, "2026-12-31T23:59")
        assert page.evaluate(FITS, box), box
    shoot(tab, "events")
    page.locator(".event-user a").first.click()
    page.wait_for_selector("#user-detail, h1")
    assert "alice@example.com" in page.inner_text("main")
    page.goto(f"{base}/events")
    page.select_option("#outcome", "failure")
    page.fill("#kind", "passkey.authentication")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*outcome=failure.*"))
    rows = page.locator("tr.event")
    assert rows.count() == 1
    assert "credential" in rows.first.inner_text()
    shoot(tab, "events-failure")
    rows.first.locator("a", has_text="View").click()
    page.wait_for_selector("#event-detail")
    shoot(tab, "event")

    # 5. Pool settings as a form: each refused field says why under it, what was typed stays.
    page.goto(f"{base}/pools")
    form = page.locator("form.pool-settings").first
    form.locator("[name=max_passkeys]").fill("0")
    form.locator("[name='branding.primary_color']").fill("blue")
    form.locator("[name=email_sender]").fill("nobody")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-error")
    assert page.inner_text("#form-error") == "Not saved: fix the 3 problems shown below."
    form = page.locator("form.pool-settings").first
    assert form.locator(".field-error").all_inner_texts() == [
        "max_passkeys must be 1 to 100",
        "branding.primary_color must look like #1a2b3c",
        "email_sender is not an e-mail address: An email address must have an @-sign.",
    ]
    assert form.locator("[name=max_passkeys]").input_value() == "0"
    assert form.locator("[aria-invalid=true]").count() == 3
    shoot(tab, "pools-refused")
    form.locator("[name=max_passkeys]").fill("5")
    form.locator("[name='branding.primary_color']").fill("#aa3300")
    form.locator("[name=email_sender]").fill("")
    form.locator("[name=identifier_first]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".notice")
    assert page.inner_text(".notice") == "Pool settings saved."
    form = page.locator("form.pool-settings").first
    assert form.locator("[name=max_passkeys]").input_value() == "5"
    assert form.locator("[name=identifier_first]").is_checked()
    shoot(tab, "pools")

    # 6. Every other page, with its charts and forms; keyboard: the skip link comes first.
    for path, name in [("", "overview"), ("/settings", "settings"), ("/apps", "apps"),
                       ("/signing-keys", "signing-keys"), ("/webhooks", "webhooks")]:  # fmt: skip
        page.goto(base + path)
        if name == "overview":
            page.wait_for_function("document.querySelectorAll('canvas').length === 5")
            page.wait_for_function(
                "[...document.querySelectorAll('canvas')].every(c => c.width > 0 && c.height > 0)"
            )
        shoot(tab, name)
    page.goto(f"{base}/api-keys")
    page.click("#create-key")
    page.wait_for_selector("#key-created")
    assert page.inner_text("#new-secret")
    shoot(tab, "api-keys")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert problems == []
