"""Sign up, sign in with the button, sign in with autofill, and the button pressed while
autofill is pending — in Chromium with a virtual authenticator, with Latchkey's Web SDK and
with the hosted vendor's unmodified @authsignal/browser. Every token is validated server-side
by the app backend's call, once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.flows import Backend, Tab, new_user, sign_up, token_of

SDKS = ["latchkey.html", "authsignal.html"]
PENDING = "pending"


def _settle(tab: Tab, handle: str, ms: int = 1500) -> Any:
    """The promise's value, or "pending" if it has not settled within `ms`."""
    timer = f"new Promise(r => setTimeout(() => r('{PENDING}'), {ms}))"
    return tab.call(f"() => Promise.race([window.{handle}, {timer}])")


@pytest.mark.parametrize("sdk", SDKS)
def test_sign_up(open_tab: Any, backend: Backend, sdk: str) -> None:
    tab = open_tab(sdk)
    user_id = new_user()
    sign_up(tab, backend, user_id)
    [credential] = tab.credentials()
    assert credential["rpId"] == "localhost"
    assert credential["isResidentCredential"] is True


@pytest.mark.parametrize("sdk", SDKS)
def test_sign_in_with_the_button(open_tab: Any, backend: Backend, sdk: str) -> None:
    tab = open_tab(sdk)
    user_id = new_user()
    sign_up(tab, backend, user_id)
    result = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    backend.validate_once(token_of(result), user_id)
    assert tab.credentials()[0]["signCount"] == 2


@pytest.mark.parametrize("sdk", SDKS)
def test_sign_in_with_autofill(open_tab: Any, backend: Backend, sdk: str) -> None:
    tab = open_tab(sdk)
    user_id = new_user()
    sign_up(tab, backend, user_id)
    tab.call("() => { window.autofill = sdk.signIn({ autofill: true }); }")
    tab.page.click("#username")
    backend.validate_once(token_of(_settle(tab, "autofill", 10_000)), user_id)


@pytest.mark.parametrize("sdk", SDKS)
def test_button_while_autofill_is_pending(open_tab: Any, backend: Backend, sdk: str) -> None:
    tab = open_tab(sdk)
    user_id = new_user()
    sign_up(tab, backend, user_id)
    # No user presence yet: the autofill request waits, as it does until a user picks a passkey.
    presence = {"authenticatorId": tab.authenticator_id}
    tab.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": False})
    tab.call(
        "() => { window.autofill = sdk.signIn({ autofill: true })"
        ".catch((e) => ({ rejected: true, name: e.name })); }"
    )
    assert _settle(tab, "autofill") == PENDING
    tab.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": True})
    # The button: a modal request that cancels the pending autofill one cleanly.
    button = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    backend.validate_once(token_of(button), user_id)
    autofill = _settle(tab, "autofill")
    assert autofill != PENDING, "the autofill request was left hanging"
    if sdk == "latchkey.html":
        # Ours resolves with a result the page can ignore, never an unhandled rejection.
        assert autofill["aborted"] is True
        assert autofill["errorCode"] == "aborted"
    else:
        # The vendor's SDK rejects its autofill promise with an AbortError instead.
        assert autofill == {"rejected": True, "name": "AbortError"}
    assert tab.credentials()[0]["signCount"] == 2  # exactly one more signature
    assert tab.call("() => window.unhandled") == []
