"""`latchkey demo` end to end in Chromium: add a passkey on the web app (one origin), then sign
in on the login server (another origin) by autofill and with the button, each validated by the
login server's backend — with Latchkey's Web SDK and with the vendor's unmodified one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.flows import Tab
from tests.live_server import free_port, wait_healthy


class Demo:
    def __init__(self, latchkey: int, login: int, app: int, portal: int) -> None:
        self.latchkey_url = f"http://localhost:{latchkey}"
        self.login_url = f"http://localhost:{login}"
        self.app_url = f"http://localhost:{app}"
        self.portal_url = f"http://localhost:{portal}"


@pytest.fixture(params=["latchkey", "vendor"])
def demo(request: pytest.FixtureRequest, tmp_path: Path, page_origin: str) -> Iterator[Demo]:
    ports = free_port(), free_port(), free_port(), free_port()
    command = [sys.executable, "-m", "latchkey.cli", "demo", "--port", str(ports[0])]
    command += ["--login-port", str(ports[1]), "--app-port", str(ports[2])]
    command += ["--portal-port", str(ports[3])]
    if request.param == "vendor":
        command += ["--vendor-sdk-url", f"{page_origin}/vendor/authsignal.min.js"]
    env = {**os.environ, "LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_healthy(f"http://127.0.0.1:{ports[0]}", process)
        for port in ports[1:]:
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        yield Demo(*ports)
    finally:
        process.terminate()
        process.wait(timeout=15)


def _presence(tab: Tab, enabled: bool) -> None:
    tab.cdp.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": tab.authenticator_id, "enabled": enabled},
    )


def test_demo_journey_across_both_origins(blank_tab: Any, demo: Demo) -> None:
    tab: Tab = blank_tab()
    page = tab.page
    username = f"ada-{uuid.uuid4().hex[:6]}"

    # The web app: its backend tracks add-passkey (add:authenticators); the browser signs up.
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(demo.app_url)
    assert "shown only to a signed-in user" in page.inner_text("#real-app-note")
    # The username's pattern compiles (with the v flag) and so is checked by the browser.
    for value, refused in (("ada lovelace", True), ("ada-1@example.com", False)):
        page.fill("#username", value)
        mismatch = page.eval_on_selector("#username", "e => e.validity.patternMismatch")
        assert mismatch is refused, value
    assert [line for line in console if "pattern" in line.lower()] == []
    page.fill("#username", username)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#create-button")
    page.wait_for_selector("#added", timeout=15_000)
    assert username in page.text_content("#added")
    assert len(tab.credentials()) == 1

    # The login server, another origin: autofill offers the passkey as the page loads, and the
    # virtual authenticator (user present) takes it.
    page.goto(demo.login_url)
    page.wait_for_selector("#who", timeout=15_000)
    assert username in page.text_content("#who")
    assert "validated" in page.text_content("#who")

    # Again with the button, pressed while the autofill request is still waiting.
    _presence(tab, False)
    with page.expect_response(lambda r: "authentication-options" in r.url):
        page.goto(demo.login_url)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_timeout(500)  # the options arrived; the autofill get() is now waiting
    _presence(tab, True)
    page.click("#passkey-button")
    page.wait_for_selector("#who", timeout=15_000)
    assert username in page.text_content("#who")
    assert tab.credentials()[0]["signCount"] == 3  # sign up, autofill, button: no stray use


def test_demo_portal_signs_in_through_the_hosted_pages_with_oidc(
    blank_tab: Any, demo: Demo
) -> None:
    """The portal has no login UI: OIDC (code + PKCE, Authlib's client) to the pool's hosted
    pages and back, the ID token's claims shown."""
    tab: Tab = blank_tab()
    page = tab.page
    email = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    page.goto(demo.portal_url)
    page.click("#sign-in")
    # No session yet: the hosted sign-in page; a new user goes on to sign up.
    page.wait_for_url(lambda url: "/identity/" in url and "/signin" in url)
    page.click("text=Create an account")
    page.wait_for_url(lambda url: "/signup" in url)
    page.fill("#email", email)
    page.click("#signup-submit")
    page.wait_for_selector("#signed-in", timeout=30_000)
    assert email in page.text_content("#signed-in")
    claims = page.text_content("#claims")
    assert '"amr"' in claims
    assert '"nonce"' in claims
    # Signed out of the portal and of Latchkey's session: the next sign-in asks again, and the
    # passkey answers it (autofill on the hosted page).
    page.click("#sign-out")
    page.wait_for_url(lambda url: url.rstrip("/") == demo.portal_url)
    page.click("#sign-in")
    page.wait_for_selector("#signed-in", timeout=30_000)
    assert email in page.text_content("#signed-in")
