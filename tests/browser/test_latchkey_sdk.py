"""What only Latchkey's Web SDK promises: server error codes surfaced, authenticator binding,
conditional create with its visible fallback, and the WebAuthn Signal API."""

from __future__ import annotations

from typing import Any

from tests.browser.flows import Backend, new_user, sign_up, token_of
from tests.live_server import LiveServer


def test_server_error_codes_reach_the_page(open_tab: Any) -> None:
    tab = open_tab("latchkey.html")
    bogus = tab.call("() => sdk.signUp({ token: 'lk_tok_not_a_real_token' })")
    assert bogus["errorCode"] == "invalid_token"
    assert bogus["errorDescription"]
    assert tab.call("() => sdk.signUp({})")["errorCode"] == "token_required"
    assert tab.credentials() == []


def test_binding_needs_the_add_authenticators_scope(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(tab, backend, user_id)
    second = open_tab("latchkey.html")  # another device of the same user
    unscoped = second.call("(t) => sdk.signUp({ token: t })", backend.track(user_id))
    assert unscoped["errorCode"] == "add_authenticators_scope_required"
    assert second.credentials() == []
    scoped = backend.track(user_id, scope="add:authenticators")
    result = second.call("(t) => sdk.signUp({ token: t })", scoped)
    backend.validate_once(token_of(result), user_id)
    assert len(second.credentials()) == 1


def test_conditional_create_falls_back_to_a_visible_prompt(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    available = tab.call("() => sdk.isAvailable()")
    assert available["webauthn"] is True
    assert available["autofill"] is True
    user_id = new_user()
    auto = "(t) => { window.auto = sdk.signUp({ token: t, useAutoRegister: true }); }"
    tab.call(auto, backend.track(user_id))
    if not available["conditionalCreate"]:
        result = tab.call("() => window.auto")
        assert result["errorCode"] == "conditional_create_unavailable"
    else:
        # Headless Chromium waits for a password-manager sign-in that never comes.
        timer = "new Promise(r => setTimeout(() => r('pending'), 1500))"
        assert tab.call(f"() => Promise.race([window.auto, {timer}])") == "pending"
    # The page's visible "Create a passkey" button still works (and ends any pending request).
    result = tab.call("(t) => sdk.signUp({ token: t })", backend.track(user_id))
    backend.validate_once(token_of(result), user_id)
    assert len(tab.credentials()) == 1


def test_unknown_credential_is_signalled(
    open_tab: Any, backend: Backend, latchkey: LiveServer
) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(tab, backend, user_id)
    [passkey] = backend.http.get(f"/users/{user_id}/authenticators").json()
    deleted = backend.http.delete(
        f"/users/{user_id}/authenticators/{passkey['userAuthenticatorId']}"
    )
    assert deleted.status_code == 200
    result = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    assert result["errorCode"] == "credential_not_found"
    signals = tab.call("() => window.signals")
    unknown = [s for s in signals if s["name"] == "signalUnknownCredential"]
    assert unknown, f"no signalUnknownCredential in {signals}"
    assert unknown[0]["detail"]["rpId"] == "localhost"
    assert unknown[0]["detail"]["credentialId"] == passkey["webauthnCredential"]["credentialId"]


def test_sign_in_signals_current_user_details(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(tab, backend, user_id)
    backend.validate_once(token_of(tab.call("() => sdk.signIn({ action: 'sign-in' })")), user_id)
    details = [s["detail"] for s in tab.call("() => window.signals")]
    assert any(d.get("name") == f"{user_id}@example.com" for d in details), details
