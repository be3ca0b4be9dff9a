"""The hosted page of a tracked action (issue 18 item 17) in Chromium: the app's page calls the
unmodified @authsignal/browser `launch(url)` with the `url` track answered; Latchkey's page
creates a passkey (or signs in with one), then returns to the action's redirectUrl with the
result token, which the backend validates once. A blocked action's page refuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser.flows import Backend, Tab, new_user


def _track(backend: Backend, user_id: str, action: str, **body: Any) -> dict[str, Any]:
    answer = backend.http.post(f"/users/{user_id}/actions/{action}", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _launch(tab: Tab, url: str, button_text: str) -> None:
    tab.call("(url) => client.launch(url)", url)
    button = tab.page.locator("#action-button")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == button_text
    assert "#" not in tab.page.url  # the token left the address bar
    button.click()


def _returned_token(tab: Tab, redirect: str) -> str:
    tab.page.wait_for_url(f"{redirect}*", timeout=10_000)
    [token] = parse_qs(urlsplit(tab.page.url).query)["token"]
    return token


def test_launch_signs_up_then_in_and_returns_with_the_token(
    open_tab: Any, backend: Backend, page_origin: str
) -> None:
    tab = open_tab("authsignal.html")
    query = urlsplit(tab.page.url).query  # the test page's own wiring, kept on the way back
    violations: list[str] = []
    tab.page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    user_id = new_user()
    redirect = f"{page_origin}/authsignal.html?{query}&step=enrolled"
    tracked = _track(backend, user_id, "add-passkey", redirectUrl=redirect, username=user_id)
    assert tracked["url"].endswith(f"#token={tracked['token']}")
    _launch(tab, tracked["url"], "Create a passkey")
    backend.validate_once(_returned_token(tab, redirect), user_id)
    assert len(tab.credentials()) == 1

    again = f"{page_origin}/authsignal.html?{query}&step=stepped-up"
    step_up = _track(backend, user_id, "withdraw", redirectUrl=again)
    tab.page.wait_for_function("window.ready === true")
    _launch(tab, step_up["url"], "Sign in with a passkey")
    token = _returned_token(tab, again)
    result = backend.validate(token)
    assert (result["isValid"], result["userId"], result["action"]) == (True, user_id, "withdraw")
    assert tab.credentials()[0]["signCount"] >= 1
    assert violations == []


def test_a_blocked_actions_page_refuses(open_tab: Any, backend: Backend, page_origin: str) -> None:
    tab = open_tab("authsignal.html")
    user_id = new_user()
    tracked = _track(backend, user_id, "add-passkey", redirectUrl=f"{page_origin}/authsignal.html")
    path = f"/users/{user_id}/actions/add-passkey/{tracked['idempotencyKey']}"
    assert backend.http.patch(path, json={"state": "BLOCK"}).status_code == 200
    tab.call("(url) => client.launch(url)", tracked["url"])
    status = tab.page.locator("#status.error")
    status.wait_for(timeout=10_000)
    assert "BLOCK" in status.inner_text()
    assert tab.page.locator("#action-button").is_hidden()
    assert tab.credentials() == []


def test_launch_in_a_window_hands_the_token_to_the_apps_page(
    open_tab: Any, backend: Backend
) -> None:
    """`launch(url, { mode: "window" })`: the page opens in a window, which posts the result
    token back (only to the tenant's origins) and the SDK's promise resolves with it."""
    tab = open_tab("authsignal.html")
    user_id = new_user()
    tracked = _track(backend, user_id, "add-passkey", username=user_id)
    with tab.page.context.expect_page() as opened:
        tab.call(
            "(url) => { window.launched = client.launch(url, { mode: 'window' }); }", tracked["url"]
        )
    popup = opened.value
    cdp = popup.context.new_cdp_session(popup)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    button = popup.locator("#action-button")
    button.wait_for(state="visible", timeout=10_000)
    button.click()
    result = tab.call("() => window.launched")
    backend.validate_once(result["token"], user_id)
