"""OpenID Connect journeys in Chromium, each starting at a relying party and ending back there with
an ID token: the demo portal (Authlib's client, which checks the token's signature against the
tenant's JWKS, iss, aud, exp and nonce) sends the browser to a pool's hosted pages through
/authorize, the user signs up, signs in with the button, in identifier-first mode, with a password
then the passkey offer, or resets the passkey with the code read from a local SMTP server, and the
portal shows the user and the token's claims. Also the SSO session (no sign-in page while it
lasts), prompt=login, RP-initiated logout, and the error page a bad redirect_uri gets instead of a
redirect. No page may report a Content Security Policy violation or a script error. The pages are
saved as screenshots, light and dark, under artifacts/oidc/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import uvicorn

from latchkey.demo.portal import SESSION_COOKIE, PortalConfig, portal_app
from tests.browser.flows import Tab
from tests.live_server import LiveServer, free_port, live_server
from tests.smtp_mailbox import Mailbox, running_mailbox

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "oidc"
CUSTOMERS = "default"  # the tenant's default pool: passkeys only
STAFF = "staff"  # identifier-first, with passwords for users migrating from them
SLOW = 30_000  # ms: a round trip through the portal, Latchkey and the portal's token call


# --- the stage: Latchkey (with a mailbox) and two portals, one per pool -------------------------


@dataclass(frozen=True)
class Portal:
    url: str
    pool: str


@dataclass(frozen=True)
class Stage:
    latchkey: LiveServer
    mailbox: Mailbox
    client_id: str
    customers: Portal
    staff: Portal

    @property
    def issuer(self) -> str:
        return f"{self.latchkey.url}/t/{self.latchkey.tenant_id}/"


@contextmanager
def serving_portal(config: PortalConfig, port: int) -> Iterator[None]:
    """The demo portal in this process, served by uvicorn in a thread."""
    server = uvicorn.Server(
        uvicorn.Config(
            portal_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name=f"portal-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError(f"the demo portal did not start on port {port}")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _configure(server: LiveServer, urls: list[str]) -> str:
    """The pools (bot check off: the hosted-pages tests solve it) and the portal's OIDC app, with
    the CLI; independent commands run side by side. Returns the app's client id."""

    def customers() -> None:
        server.cli(
            "pool", "configure", server.tenant_id, CUSTOMERS,
            "--display-name", "Example Customers", "--primary-color", "#0b7a5c",
            "--bot-check", "off", "--email-sender", "login@example.com",
        )  # fmt: skip

    def staff() -> None:
        server.cli("directory", "create", server.tenant_id, STAFF, "--identifier", "email=required")
        server.cli(
            "pool", "configure", server.tenant_id, STAFF,
            "--display-name", "Example Staff", "--identifier-first", "on", "--password", "on",
            "--bot-check", "off",
        )  # fmt: skip

    def app() -> str:
        uris = [arg for url in urls for arg in ("--redirect-uri", f"{url}/callback",
                                                "--redirect-uri", f"{url}/")]  # fmt: skip
        created = server.cli(
            "app", "create", server.tenant_id, "--name", "Portal", "--type", "regular_web",
            *uris, "--grant", "authorization_code", "--grant", "refresh_token", "--json",
        )  # fmt: skip
        return str(json.loads(created)["client_id"])

    with ThreadPoolExecutor(3) as pool:
        done = [pool.submit(customers), pool.submit(staff)]
        client_id = pool.submit(app).result()
        for job in done:
            job.result()
    return client_id


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    with (
        running_mailbox() as mailbox,
        live_server(tmp_path_factory.mktemp("oidc"), env=mailbox.smtp_env()) as server,
    ):
        ports = free_port(), free_port()
        urls = [f"http://localhost:{port}" for port in ports]
        client_id = _configure(server, urls)
        issuer = f"{server.url}/t/{server.tenant_id}/"
        customers, staff = Portal(urls[0], CUSTOMERS), Portal(urls[1], STAFF)
        with (
            serving_portal(PortalConfig(issuer, client_id, customers.url, CUSTOMERS), ports[0]),
            serving_portal(PortalConfig(issuer, client_id, staff.url, STAFF), ports[1]),
        ):
            yield Stage(server, mailbox, client_id, customers, staff)


# --- a browser tab that notes what it saw -------------------------------------------------------


@dataclass
class Browser:
    """A tab (its own context and virtual authenticator) that records the pages it went to, the
    authorization requests it made, and any CSP violation or uncaught script error."""

    tab: Tab
    stage: Stage
    visited: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def page(self) -> Any:
        return self.tab.page

    def sign_count(self) -> int:
        [credential] = self.tab.credentials()
        return int(credential["signCount"])

    def hosted_pages_seen(self) -> list[str]:
        return [url for url in self.visited if "/identity/" in url]

    def assert_clean(self) -> None:
        assert self.violations == [], json.dumps(self.violations, indent=2)
        assert self.errors == [], json.dumps(self.errors, indent=2)


def open_browser(blank_tab: Callable[[], Tab], stage: Stage) -> Browser:
    browser = Browser(blank_tab(), stage)
    page = browser.page

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            browser.violations.append(f"{page.url}: {message.text}")

    def on_request(request: Any) -> None:
        if request.is_navigation_request() and "/authorize?" in request.url:
            browser.authorizations.append(request.url)

    def on_navigated(frame: Any) -> None:
        if frame == page.main_frame:
            browser.visited.append(frame.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser.errors.append(f"{page.url}: {error}"))
    page.on("request", on_request)
    page.on("framenavigated", on_navigated)
    return browser


def shoot(browser: Browser, name: str) -> None:
    """A screenshot of the page as it is, in light and in dark."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.page
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")


def presence(tab: Tab, enabled: bool) -> None:
    tab.cdp.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": tab.authenticator_id, "enabled": enabled},
    )


@contextmanager
def autofill_waiting(browser: Browser) -> Iterator[None]:
    """Pages opened in the block keep their autofill request pending, as until a user picks a
    passkey from the list (the virtual authenticator would otherwise answer it at once)."""
    presence(browser.tab, False)
    try:
        yield
    finally:
        presence(browser.tab, True)


def hosted(browser: Browser, page_name: str) -> None:
    """Wait until the browser shows this hosted page of a pool."""
    pattern = re.compile(rf"/{re.escape(browser.stage.latchkey.tenant_id)}/identity/[^/]+/"
                         rf"{page_name}(\?.*)?$")  # fmt: skip
    browser.page.wait_for_url(pattern, timeout=SLOW)


def to_signin_waiting(browser: Browser, go: Callable[[], None], shot: str | None = None) -> None:
    """`go` leads to the hosted sign-in page; arrive with its autofill request made and waiting
    (so the button's or the identifier's request is the one that signs in)."""
    with autofill_waiting(browser):
        with browser.page.expect_response(
            lambda r: r.url.endswith("/login/webauthn/options"), timeout=SLOW
        ):
            go()
        hosted(browser, "signin")
        browser.page.wait_for_timeout(300)  # the options arrived: get() is now waiting
        if shot:
            shoot(browser, shot)


def portal_sign_in(browser: Browser, portal: Portal) -> None:
    browser.page.goto(portal.url)
    browser.page.click("#sign-in")


def back_at_portal(browser: Browser, portal: Portal, email: str) -> dict[str, Any]:
    """The portal shows this user, signed in with a verified ID token; its claims."""
    page = browser.page
    page.wait_for_selector("#signed-in", timeout=SLOW)
    assert page.url.rstrip("/") == portal.url
    assert email in page.text_content("#signed-in")
    claims: dict[str, Any] = json.loads(page.text_content("#claims"))
    userinfo: dict[str, Any] = json.loads(page.text_content("#userinfo"))
    stage = browser.stage
    assert claims["iss"] == stage.issuer
    assert claims["aud"] == stage.client_id
    assert claims["email"] == email
    assert claims["amr"], claims
    # The nonce the portal sent in its last authorization request came back in the token.
    sent = parse_qs(urlsplit(browser.authorizations[-1]).query)
    assert claims["nonce"] == sent["nonce"][0]
    assert sent["pool"] == [portal.pool]
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == email
    return claims


def portal_sign_out(browser: Browser, portal: Portal) -> None:
    """The portal's sign-out: RP-initiated logout at Latchkey, then back to the portal."""
    browser.page.click("#sign-out")
    browser.page.wait_for_selector("#sign-in", timeout=SLOW)
    assert browser.page.url.rstrip("/") == portal.url


def authorization_url(portal: Portal, **extra: str) -> str:
    """The portal's own authorization request (its state, nonce and PKCE are pending there),
    with extra parameters: what the browser would be sent to, had the portal asked for them."""
    port = urlsplit(portal.url).port
    answer = httpx.get(f"http://127.0.0.1:{port}/login", follow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303, 307), answer.text
    parts = urlsplit(answer.headers["location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **extra})))


def sign_up_at_portal(browser: Browser, portal: Portal, email: str, shot: str = "") -> None:
    """From the portal to the hosted sign-in page, on to sign-up, a new passkey, and back."""
    portal_sign_in(browser, portal)
    hosted(browser, "signin")
    if shot:
        shoot(browser, f"{shot}-signin")
    browser.page.click("text=Create an account")
    hosted(browser, "signup")
    if shot:
        shoot(browser, f"{shot}-signup")
    browser.page.fill("#email", email)
    browser.page.click("#signup-submit")


def latchkey_cookies(browser: Browser) -> list[str]:
    return [c["name"] for c in browser.page.context.cookies() if c["name"].startswith("latchkey_")]


# --- the journeys -----------------------------------------------------------------------------


def test_sign_up_at_the_portal_then_sign_in_with_the_passkey_button(
    blank_tab: Any, stage: Stage
) -> None:
    browser = open_browser(blank_tab, stage)
    portal, email = stage.customers, "ada@example.com"
    browser.page.goto(portal.url)
    shoot(browser, "portal-signed-out")
    sign_up_at_portal(browser, portal, email, shot="customers")
    claims = back_at_portal(browser, portal, email)
    assert "webauthn" in claims["amr"]
    shoot(browser, "portal-signed-in")
    first = browser.sign_count()

    # Signed out of the portal and of Latchkey: the button, pressed while autofill waits.
    portal_sign_out(browser, portal)
    to_signin_waiting(browser, lambda: browser.page.click("#sign-in"))
    browser.page.click("#passkey-button")
    again = back_at_portal(browser, portal, email)
    assert again["sub"] == claims["sub"]
    assert "webauthn" in again["amr"]
    assert browser.sign_count() == first + 1  # one assertion: the button's, no stray autofill
    browser.assert_clean()


def test_identifier_first_sign_in_from_the_portal(blank_tab: Any, stage: Stage) -> None:
    browser = open_browser(blank_tab, stage)
    portal, email = stage.staff, "grace@example.com"
    sign_up_at_portal(browser, portal, email, shot="staff")
    back_at_portal(browser, portal, email)
    portal_sign_out(browser, portal)

    to_signin_waiting(
        browser, lambda: browser.page.click("#sign-in"), shot="staff-signin-identifier-first"
    )
    assert browser.page.is_visible("#continue")
    first = browser.sign_count()
    browser.page.fill("#identifier", email)
    # The options' body is read as it passes (a route), not after the click: the sign-in may
    # finish and navigate away before a response event's body could still be read.
    options: list[dict[str, Any]] = []

    def keep_options(route: Any) -> None:
        answer = route.fetch()
        options.append(answer.json())
        route.fulfill(response=answer)

    browser.page.route("**/login/webauthn/options", keep_options)
    browser.page.click("#continue")
    # Discoverable options even for a typed identifier: they name no credential, so they do not
    # tell a stranger whether the account exists (issue 21 item 7); the browser offers the
    # passkey it holds.
    claims = back_at_portal(browser, portal, email)
    [seen] = options
    assert seen["publicKey"].get("allowCredentials", []) == []
    assert "webauthn" in claims["amr"]
    assert browser.sign_count() == first + 1
    browser.assert_clean()


def password_user(blank_tab: Any, stage: Stage, email: str, password: str) -> None:
    """A staff user who made the account on another device (a passkey there) and has a password
    (set by an administrator, as for users migrated from passwords)."""
    owner = open_browser(blank_tab, stage)
    owner.page.goto(f"{stage.latchkey.url}/{stage.latchkey.tenant_id}/identity/{STAFF}/signup")
    owner.page.fill("#email", email)
    owner.page.click("#signup-submit")
    hosted(owner, "account")
    owner.assert_clean()
    subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "pool", "set-password", stage.latchkey.tenant_id,
         STAFF, email],
        input=password + "\n",
        env={**os.environ, "LATCHKEY_DATABASE_URL": stage.latchkey.database_url},
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


def password_then_offer(browser: Browser, email: str, password: str) -> dict[str, Any]:
    """From the staff portal: the password on the hosted sign-in page, then the passkey the page
    offers, then back at the portal; the ID token's claims."""
    portal = browser.stage.staff
    portal_sign_in(browser, portal)
    hosted(browser, "signin")
    browser.page.fill("#identifier", email)
    browser.page.fill("#password", "wrong password!")
    browser.page.click("#password-submit")
    browser.page.wait_for_selector("#status:has-text('not right')", timeout=SLOW)
    assert browser.page.is_hidden("#offer")
    browser.page.fill("#password", password)
    browser.page.click("#password-submit")
    browser.page.wait_for_selector("#offer:not([hidden])", timeout=SLOW)
    shoot(browser, "staff-signin-passkey-offer")
    browser.page.click("#offer-create")
    return back_at_portal(browser, portal, email)


def test_password_sign_in_then_the_passkey_offer_then_the_new_passkey(
    blank_tab: Any, stage: Stage
) -> None:
    email, password = "barbara@example.com", "correct horse battery"
    password_user(blank_tab, stage, email, password)
    browser = open_browser(blank_tab, stage)  # this device holds no passkey yet
    claims = password_then_offer(browser, email, password)
    assert len(browser.tab.credentials()) == 1

    # Next time: the passkey made at the offer (autofill answers as the sign-in page opens).
    portal = stage.staff
    portal_sign_out(browser, portal)
    signin_pages = len([u for u in browser.visited if "/signin?" in u])
    first = browser.sign_count()
    browser.page.click("#sign-in")
    again = back_at_portal(browser, portal, email)
    assert len([u for u in browser.visited if "/signin?" in u]) == signin_pages + 1
    assert "webauthn" in again["amr"]
    assert again["sub"] == claims["sub"]
    assert browser.sign_count() == first + 1
    browser.assert_clean()


def test_the_passkey_offer_keeps_the_password_amr(blank_tab: Any, stage: Stage) -> None:
    email, password = "frances@example.com", "another horse battery"
    password_user(blank_tab, stage, email, password)
    browser = open_browser(blank_tab, stage)
    claims = password_then_offer(browser, email, password)
    browser.assert_clean()
    assert claims["amr"] == ["pwd"]  # the user authenticated with the password, not a passkey


def test_reset_passkey_from_the_portal_then_sign_in_with_the_new_one(
    blank_tab: Any, stage: Stage
) -> None:
    portal, email = stage.customers, "alan@example.com"
    lost = open_browser(blank_tab, stage)
    sign_up_at_portal(lost, portal, email)
    assert back_at_portal(lost, portal, email)["email_verified"] is False  # only typed so far

    browser = open_browser(blank_tab, stage)  # the new phone: no passkey on it
    portal_sign_in(browser, portal)
    hosted(browser, "signin")
    browser.page.click("text=Lost your passkey?")
    hosted(browser, "recovery")
    shoot(browser, "customers-recovery")
    browser.page.fill("#identifier", email)
    browser.page.click("#recovery-submit")
    browser.page.wait_for_selector("#code-form:not([hidden])", timeout=SLOW)
    shoot(browser, "customers-recovery-code")
    mail = stage.mailbox.wait_for(email, count=2)
    # The first mail confirmed the sign-up's address; the second is the reset.
    assert mail["Subject"].startswith("Reset the passkey")
    assert mail["From"] == "login@example.com"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    code = re.search(r"Your code is (\d{6})", body)
    assert code, body
    browser.page.fill("#code", code.group(1))
    browser.page.click("#code-submit")
    browser.page.wait_for_selector("#new-passkey:not([hidden])")
    shoot(browser, "customers-recovery-new-passkey")
    browser.page.click("#new-passkey-button")
    # Recovery carries the portal's request: the user is back at the portal, signed in.
    recovered = back_at_portal(browser, portal, email)
    assert "webauthn" in recovered["amr"]
    assert recovered["email_verified"] is True  # the recovery proved the address
    latchkey = stage.latchkey
    browser.page.goto(f"{latchkey.url}/{latchkey.tenant_id}/identity/{portal.pool}/account")
    hosted(browser, "account")
    # The new passkey replaced the lost one (issue 21 item 1).
    assert browser.page.locator(".passkey").count() == 1
    shoot(browser, "customers-account")
    [credential] = browser.tab.credentials()

    # Sign out at the portal (RP-initiated logout ends Latchkey's session too), then sign in to
    # the portal with the new passkey (autofill on the hosted page).
    browser.page.goto(portal.url)
    browser.page.click("#sign-out")
    browser.page.wait_for_selector("#sign-in", timeout=SLOW)
    assert not [c for c in latchkey_cookies(browser) if c.startswith("latchkey_sso_")]
    portal_sign_in(browser, portal)
    claims = back_at_portal(browser, portal, email)
    assert "webauthn" in claims["amr"]
    assert browser.sign_count() == credential["signCount"] + 1
    lost.assert_clean()
    browser.assert_clean()


def test_sso_session_prompt_login_and_rp_initiated_logout(blank_tab: Any, stage: Stage) -> None:
    browser = open_browser(blank_tab, stage)
    portal, email = stage.customers, "edsger@example.com"
    sign_up_at_portal(browser, portal, email)
    first = back_at_portal(browser, portal, email)

    # The portal forgets its session, Latchkey's SSO session lives: no sign-in page at all.
    browser.page.context.clear_cookies(name=SESSION_COOKIE)
    seen = len(browser.hosted_pages_seen())
    count = browser.sign_count()
    portal_sign_in(browser, portal)
    sso = back_at_portal(browser, portal, email)
    assert len(browser.hosted_pages_seen()) == seen
    assert browser.sign_count() == count
    assert sso["auth_time"] == first["auth_time"]

    # prompt=login: the sign-in page again despite the session, and a new authentication.
    time.sleep(1)  # auth_time has whole seconds
    browser.page.context.clear_cookies(name=SESSION_COOKIE)
    to_signin_waiting(
        browser,
        lambda: browser.page.goto(authorization_url(portal, prompt="login")),
        shot="customers-signin-prompt-login",
    )
    browser.page.click("#passkey-button")
    fresh = back_at_portal(browser, portal, email)
    assert fresh["auth_time"] > first["auth_time"]
    assert browser.sign_count() == count + 1

    # RP-initiated logout ends Latchkey's session too: the next sign-in shows the page again.
    portal_sign_out(browser, portal)
    assert not [c for c in latchkey_cookies(browser) if c.startswith("latchkey_sso_")]
    seen = len(browser.hosted_pages_seen())
    to_signin_waiting(browser, lambda: browser.page.click("#sign-in"))
    assert len(browser.hosted_pages_seen()) > seen
    browser.page.click("#passkey-button")
    back_at_portal(browser, portal, email)
    assert browser.sign_count() == count + 2
    browser.assert_clean()


def test_a_wrong_redirect_uri_gets_an_error_page_not_a_redirect(
    blank_tab: Any, stage: Stage
) -> None:
    browser = open_browser(blank_tab, stage)
    portal = stage.customers
    elsewhere = f"http://localhost:{free_port()}/callback"
    url = authorization_url(portal, redirect_uri=elsewhere)
    answer = browser.page.goto(url)
    assert answer is not None
    assert answer.status == 400
    assert browser.page.url == url  # stayed at Latchkey: no redirect, to anywhere
    assert not [u for u in browser.visited if u.startswith(elsewhere)]
    assert browser.page.text_content("#error-code") == "invalid_request"
    assert "redirect" in browser.page.text_content("#message").lower()
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    shoot(browser, "authorize-error-redirect-uri")

    # An unknown client: the same page.
    unknown = authorization_url(portal, client_id="no-such-client")
    answer = browser.page.goto(unknown)
    assert answer is not None
    assert answer.status == 400
    assert browser.page.url == unknown
    assert browser.page.text_content("#error-code")
    shoot(browser, "authorize-error-unknown-client")

    # Logout without an ID token hint (a link anyone could make): Latchkey asks first.
    browser.page.goto(f"{stage.issuer}logout")
    browser.page.wait_for_selector("#confirm-sign-out")
    shoot(browser, "logout-confirm")
    browser.page.click("#confirm-sign-out")
    browser.page.wait_for_selector("#message:has-text('signed out')")
    shoot(browser, "logout-done")
    browser.assert_clean()
