"""The hosted sign-in page in Chromium in Arabic (right to left) and Japanese (issue 20 §1):
the browser's language picks the catalog, the page mirrors for Arabic, the scripts' messages
come in the page's language, and the language switch is remembered. Screenshots, light and
dark, under artifacts/i18n/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, live_server

ARTIFACTS = Path(os.environ.get("LATCHKEY_ARTIFACTS", "artifacts")) / "i18n"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("i18n")) as server:
        server.cli(
            "directory", "create", server.tenant_id, "customers", "--identifier", "email=required"
        )
        server.cli(
            "pool", "configure", server.tenant_id, "customers",
            "--display-name", "Example Customers", "--primary-color", "#0b7a5c", "--password", "on",
        )  # fmt: skip
        yield server


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")


def open_signin(chromium: Any, server: LiveServer, locale: str) -> tuple[Any, list[str]]:
    """The sign-in page in a browser whose language is `locale`; CSP and script errors kept."""
    context = chromium.new_context(locale=locale)
    page = context.new_page()
    problems: list[str] = []
    # Script errors and CSP reports; a failed load is judged by its URL (the browser's own
    # favicon request is no part of the page).
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{server.url}/{server.tenant_id}/identity/customers/signin")
    return page, problems


def test_the_sign_in_page_in_arabic_reads_right_to_left(chromium: Any, hosted: LiveServer) -> None:
    page, problems = open_signin(chromium, hosted, "ar-EG")
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.title() == "تسجيل الدخول · Example Customers"
    assert page.inner_text("#passkey-button") == "تسجيل الدخول باستخدام مفتاح مرور"
    assert page.inner_text("#continue") == "متابعة"
    # Mirrored: the label's text starts at the field's right edge.
    label = page.evaluate(
        """() => { const range = document.createRange();
        range.selectNodeContents(document.querySelector("label[for=identifier]"));
        const box = range.getBoundingClientRect(); return { left: box.left, right: box.right }; }"""
    )
    field = page.locator("#identifier").bounding_box()
    assert field
    assert abs(label["right"] - (field["x"] + field["width"])) < 2
    assert label["left"] > field["x"] + field["width"] / 2
    # The script's messages come from the page's catalog: Continue with nothing typed.
    page.click("#continue")
    page.wait_for_selector("#status.error")
    assert page.inner_text("#status") == "اكتب أولًا ما تسجّل الدخول به، ثم اضغط على «متابعة»."
    shoot(page, "signin-ar")
    page.click("footer a[href*=recovery]")
    page.wait_for_selector("#recovery-form")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("#recovery-submit") == "إرسال الرمز"
    # The bot check's widget speaks it too (its `strings` from the catalog).
    page.get_by_text("أنا لست روبوتًا").wait_for(timeout=10_000)
    shoot(page, "recovery-ar")
    assert not problems, problems
    page.context.close()


def test_the_sign_in_page_in_japanese_and_the_switch_is_remembered(
    chromium: Any, hosted: LiveServer
) -> None:
    page, problems = open_signin(chromium, hosted, "ja-JP")
    assert page.get_attribute("html", "lang") == "ja"
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.inner_text("#passkey-button") == "パスキーでサインイン"
    assert page.inner_text("label[for=password]") == "パスワード"
    shoot(page, "signin-ja")
    # The switch: Deutsch, then a fresh load of the page without ?lang stays German.
    page.click("nav.languages a[hreflang=de]")
    page.wait_for_selector("html[lang=de]")
    page.goto(f"{hosted.url}/{hosted.tenant_id}/identity/customers/recovery")
    assert page.get_attribute("html", "lang") == "de"
    assert page.inner_text("h1") == "Passkey zurücksetzen"
    assert not problems, problems
    page.context.close()


def test_enter_with_an_address_says_what_happens_next(chromium: Any, hosted: LiveServer) -> None:
    """Issue 20 §4: Enter in the identifier field (Continue) with an address this browser has
    no passkey for does not wait forever: the page says what the browser's window is for, and
    once it closes with no passkey used, what else there is."""
    page, problems = open_signin(chromium, hosted, "en-GB")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                     "hasUserVerification": True, "isUserVerified": True,
                     "automaticPresenceSimulation": True}},
    )  # fmt: skip
    assert page.locator("#continue").is_visible()
    page.fill("#identifier", "nobody@example.com")
    page.press("#identifier", "Enter")
    page.wait_for_selector("#status.error", timeout=20_000)
    assert page.inner_text("#status") == (
        "No passkey was used. If you have no account yet, create one. If you lost your passkey, "
        "reset it with the link below."
    )
    assert page.locator("footer a", has_text="Create an account").is_visible()
    assert page.locator("footer a", has_text="Lost your passkey?").is_visible()
    assert not problems, problems
    page.context.close()
