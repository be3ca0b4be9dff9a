"""The identity pools' hosted pages in Chromium with a virtual authenticator: sign up (with the
real bot-check widget solving its proof of work), sign in with the button, with autofill and
identifier-first, password then the passkey offer, reset passkey with the code read from a
local SMTP server, and the account page. Every page is saved as a screenshot, light and dark."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.smtp_mailbox import Mailbox, running_mailbox
from tests.support.hosted_tab import autofill_waiting, pool_url, sign_out
from tests.support.hosted_tab import set_password as _set_password

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "hosted-pages"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with running_mailbox() as box:
        yield box


@pytest.fixture(scope="module")
def hosted(mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # One browser address makes every request here: a per-IP limit fit for a crowd.
    env = {**mailbox.smtp_env(), "LATCHKEY_CHALLENGE_RATE_LIMIT": "1000/60"}
    with live_server(tmp_path_factory.mktemp("hosted"), env=env) as server:
        server.cli(
            "directory", "create", server.tenant_id, "customers", "--identifier", "email=required"
        )
        server.cli(
            "pool", "configure", server.tenant_id, "customers",
            "--display-name", "Example Customers", "--primary-color", "#0b7a5c",
            "--email-sender", "login@example.com",
        )  # fmt: skip
        server.cli(
            "directory", "create", server.tenant_id, "staff", "--identifier", "email=required"
        )
        server.cli(
            "pool", "configure", server.tenant_id, "staff",
            "--identifier-first", "on", "--bot-check", "off", "--password", "on",
        )  # fmt: skip
        server.cli(
            "directory", "create", server.tenant_id, "members", "--identifier", "email=required"
        )
        server.cli(
            "pool", "configure", server.tenant_id, "members", "--bot-check", "off",
            "--email-verification", "required", "--email-sender", "login@example.com",
        )  # fmt: skip
        yield server


def shoot(tab: Tab, name: str) -> None:
    """A screenshot of the page as it is, in light and in dark."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        tab.page.emulate_media(color_scheme=scheme)
        tab.page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=True)
    tab.page.emulate_media(color_scheme="light")


def sign_up(tab: Tab, server: LiveServer, email: str, *, shot: bool = False) -> None:
    tab.page.goto(pool_url(server, "customers", "signup"))
    if shot:
        # Nothing said yet: the status line leaves no gap under the heading.
        status = "document.querySelector('#status').getBoundingClientRect().height"
        assert tab.page.evaluate(status) == 0
        shoot(tab, "signup")
    tab.page.fill("#email", email)
    tab.page.fill("#name", "Ada Lovelace")
    tab.page.click("#signup-submit")
    tab.page.wait_for_url(re.compile(r".*/account$"), timeout=20_000)


def account_names(tab: Tab) -> list[str]:
    return tab.page.eval_on_selector_all(
        ".passkey input[name=name]", "els => els.map(e => e.value)"
    )


def test_sign_up_then_sign_in_with_the_button_and_with_autofill(
    blank_tab: Any, hosted: LiveServer
) -> None:
    tab: Tab = blank_tab()
    sign_up(tab, hosted, "ada@example.com", shot=True)
    assert tab.page.locator(".passkey").count() == 1
    assert "ada@example.com" in tab.page.inner_text("main")
    [credential] = tab.credentials()
    assert credential["isResidentCredential"] is True
    shoot(tab, "account")

    # The button, while the page's autofill request waits (no user presence yet, as when
    # nobody has picked a passkey from the list): the button's request replaces it.
    with autofill_waiting(tab):
        sign_out(tab)
        shoot(tab, "signin")
    tab.page.click("#passkey-button")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    assert tab.credentials()[0]["signCount"] == 2

    # Autofill: the page's conditional request, which the virtual authenticator answers as
    # soon as it is made (a user picks the passkey from the identifier field's list).
    sign_out(tab)
    tab.page.wait_for_url(re.compile(r".*/account$"))
    assert tab.credentials()[0]["signCount"] == 3


def test_identifier_first_and_password_then_the_passkey_offer(
    blank_tab: Any, hosted: LiveServer
) -> None:
    # A user migrated with a password and no passkey yet.
    owner: Tab = blank_tab()
    owner.page.goto(pool_url(hosted, "staff", "signup"))
    owner.page.fill("#email", "grace@example.com")
    owner.page.click("#signup-submit")
    owner.page.wait_for_url(re.compile(r".*/account$"))
    _set_password(hosted, "staff", "grace@example.com", "correct horse battery")

    tab: Tab = blank_tab()  # another device: no passkey on it
    tab.page.goto(pool_url(hosted, "staff", "signin"))
    tab.page.fill("#identifier", "grace@example.com")
    tab.page.fill("#password", "wrong password!")
    tab.page.click("#password-submit")
    # (Selectors, not wait_for_function: the pages' CSP forbids evaluating strings.)
    tab.page.wait_for_selector("#status:has-text('not right')")
    assert tab.page.is_hidden("#offer")
    tab.page.fill("#password", "correct horse battery")
    tab.page.click("#password-submit")
    tab.page.wait_for_selector("#offer:not([hidden])")
    shoot(tab, "signin-passkey-offer")
    tab.page.click("#offer-create")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    assert len(tab.credentials()) == 1

    # Identifier-first with the new passkey: the options name this user's passkeys only.
    with autofill_waiting(tab):
        sign_out(tab)
        shoot(tab, "signin-identifier-first")
    tab.page.fill("#identifier", "grace@example.com")
    tab.page.click("#continue")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    assert len(account_names(tab)) == 2


def test_reset_passkey_with_the_mailed_code_then_manage_the_account(
    blank_tab: Any, hosted: LiveServer, mailbox: Mailbox
) -> None:
    lost: Tab = blank_tab()
    sign_up(lost, hosted, "alan@example.com")

    tab: Tab = blank_tab()  # the new phone
    tab.page.goto(pool_url(hosted, "customers", "recovery"))
    shoot(tab, "recovery")
    tab.page.fill("#identifier", "alan@example.com")
    tab.page.click("#recovery-submit")
    tab.page.wait_for_selector("#code-form:not([hidden])", timeout=20_000)
    shoot(tab, "recovery-code")
    mail = mailbox.wait_for("alan@example.com", count=2)
    # The first mail confirmed the sign-up's address; the second is the reset.
    assert mail["Subject"].startswith("Reset the passkey")
    assert mail["From"] == "login@example.com"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    code = re.search(r"Your code is (\d{6})", body)
    assert code
    tab.page.fill("#code", code.group(1))
    tab.page.click("#code-submit")
    tab.page.wait_for_selector("#new-passkey:not([hidden])")
    # What the reset does, said before it is done (issue 21 item 1).
    assert "replaces your old ones" in tab.page.inner_text("#replace-note")
    tab.page.click("#new-passkey-button")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    # The new passkey replaced the lost one.
    assert tab.page.locator(".passkey").count() == 1

    tab.page.fill("#name-1", "New phone")
    tab.page.click(".passkey:nth-child(1) .rename-form button")
    tab.page.wait_for_selector("#status:has-text('renamed')")
    tab.page.reload()
    assert account_names(tab) == ["New phone"]
    assert tab.page.is_disabled("button.delete")  # the last passkey cannot go

    # The lost device offers its passkey (autofill): refused, and the page tells the passkey
    # provider to forget it (Signal API).
    lost.page.goto(pool_url(hosted, "customers", "signin"))
    lost.page.wait_for_selector("#status:has-text('no longer registered')")
    _wait(lambda: lost.credentials() == [], "the unknown passkey was not signalled away")


def test_a_pool_that_requires_a_verified_address(
    blank_tab: Any, hosted: LiveServer, mailbox: Mailbox
) -> None:
    """Sign-up lands on the verify page with no session; the mailed code opens the account."""
    tab: Tab = blank_tab()
    tab.page.goto(pool_url(hosted, "members", "signup"))
    tab.page.fill("#email", "hopper@example.com")
    tab.page.click("#signup-submit")
    tab.page.wait_for_url(re.compile(r".*/verify\?flow=.*"), timeout=20_000)
    shoot(tab, "verify")
    # Not signed in yet: no SSO session cookie.
    names = [c["name"] for c in tab.page.context.cookies()]
    assert not [n for n in names if n.startswith("latchkey_sso_")], names
    mail = mailbox.wait_for("hopper@example.com")
    assert mail["Subject"].startswith("Confirm the e-mail address")
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    code = re.search(r"Your code is (\d{6})", body)
    assert code
    tab.page.fill("#code", code.group(1))
    tab.page.click("#verify-submit")
    tab.page.wait_for_url(re.compile(r".*/account$"))
    assert account_names(tab) != []


def test_add_another_passkey_from_the_account_page(blank_tab: Any, hosted: LiveServer) -> None:
    tab: Tab = blank_tab()
    sign_up(tab, hosted, "edsger@example.com")
    # A second authenticator (a security key) in the same browser; the first one holds a
    # passkey already and is excluded, so the browser uses the new one.
    tab.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": tab.authenticator_id})
    added = tab.cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {"protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
                     "hasUserVerification": True, "isUserVerified": True,
                     "automaticPresenceSimulation": True}},
    )  # fmt: skip
    tab.authenticator_id = added["authenticatorId"]
    tab.page.click("#add-passkey")
    tab.page.wait_for_selector(".passkey:nth-child(2)")
    assert len(tab.credentials()) == 1


def _wait(check: Any, message: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(message)


def test_pages_send_a_strict_content_security_policy(blank_tab: Any, hosted: LiveServer) -> None:
    tab: Tab = blank_tab()
    violations: list[str] = []
    tab.page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    for page in ("signin", "signup", "recovery", "verify"):
        answer = tab.page.goto(pool_url(hosted, "customers", page))
        assert answer is not None
        headers = answer.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    assert violations == [], json.dumps(violations)
