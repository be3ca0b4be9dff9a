"""The operator portal in Chromium with a virtual authenticator: the first operator enrols a
passkey from the link `latchkey admin create` prints (the real CLI on the server's database)
and signs in with it; creates a tenant, a bad origin refused with its reason as it is typed
and on submit; revokes a user's passkey, after which that passkey's sign-in (a real /v1
ceremony by the software authenticator) fails; filters the event log to that failure. Every
page is saved as a screenshot, light and dark, and no page reports a CSP violation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from latchkey.testing.authenticator import SoftAuthenticator
from tests.browser.flows import Tab
from tests.live_server import LiveServer, live_server
from tests.web_parties import Backend, Browser

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "portal"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("portal")) as running:
        yield running


def admin_create(server: LiveServer, name: str) -> str:
    """`latchkey admin create` as an operator types it; the enrolment link it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", "admin", "create", "--name", name],
        env={
            **os.environ,
            "LATCHKEY_DATABASE_URL": server.database_url,
            "LATCHKEY_PUBLIC_URL": server.url,
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return next(line for line in done.stdout.splitlines() if "#token=" in line)


def at(tab: Tab, path: str) -> None:
    """Wait until the tab shows this path (the ceremonies navigate from script)."""
    tab.page.wait_for_function("path => location.pathname === path", arg=path)


def shoot(tab: Tab, name: str, folder: Path = ARTIFACTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        tab.page.emulate_media(color_scheme=scheme)
        tab.page.screenshot(path=str(folder / f"{name}-{scheme}.png"), full_page=True)
    tab.page.emulate_media(color_scheme="light")


def watch_csp(tab: Tab) -> list[str]:
    """Every CSP violation or page error the tab reports."""
    seen: list[str] = []
    tab.page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    tab.page.on("pageerror", lambda e: seen.append(str(e)))
    tab.page.on("dialog", lambda d: d.accept())  # the confirmations of destructive buttons
    return seen


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
    page.goto(link)  # the link was used: it cannot enrol again
    page.click("#passkey-enrol")
    page.wait_for_selector("#status.error")
    assert "used or expired" in page.inner_text("#status")
    page.goto(f"{server.url}/portal/login")
    page.click("#passkey-sign-in")
    at(tab, "/portal")
    assert "first@example.com" in page.inner_text(".who")

    # 2. A new tenant: a bad origin is refused with the reason as it is typed and on submit.
    page.fill("#name", "Example shop")
    page.fill("#rp_id", "example.com")
    page.fill("#origins", "https://evil.test")
    page.wait_for_selector("#origin-check li")
    assert "neither the RP ID 'example.com' nor a subdomain" in page.inner_text("#origin-check")
    shoot(tab, "tenants-origin-refused")
    page.click("#create-tenant")
    page.wait_for_selector("#form-error")
    assert "neither the RP ID" in page.inner_text("#form-error")
    assert page.input_value("#origins") == "https://evil.test"  # what was typed is kept
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

    # 4. The event log, filtered to that failure; its detail.
    page.goto(f"{base}/events")
    page.select_option("#outcome", "failure")
    page.fill("#kind", "passkey.authentication")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*outcome=failure.*"))
    rows = page.locator("tr.event")
    assert rows.count() == 1
    assert "credential" in rows.first.inner_text()
    shoot(tab, "events")
    rows.first.locator("a", has_text="View").click()
    page.wait_for_selector("#event-detail")
    shoot(tab, "event")

    # 5. Every other page, with its charts and forms; keyboard: the skip link comes first.
    for path, name in [("", "overview"), ("/settings", "settings"), ("/apps", "apps"),
                       ("/pools", "pools"), ("/signing-keys", "signing-keys"),
                       ("/webhooks", "webhooks")]:  # fmt: skip
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
