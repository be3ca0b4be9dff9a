"""What only Latchkey's Web SDK promises: server error codes surfaced (expired tokens with their
callback), authenticator binding, a button that wins over an autofill still loading, conditional
create with its visible fallback, the WebAuthn Signal API, and the classic-script global."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy

from latchkey.store.tables import tokens
from tests.browser.flows import Backend, Tab, new_user, sign_up, token_of
from tests.live_server import LiveServer


def _b64url(standard: str) -> str:
    """CDP reports ids in standard base64; WebAuthn's JSON uses unpadded base64url."""
    return standard.replace("+", "-").replace("/", "_").rstrip("=")


def _expire(server: LiveServer, token: str) -> None:
    """Age an action token past its expiry in the live server's database."""
    engine = sqlalchemy.create_engine(server.database_url)
    try:
        with engine.begin() as conn:
            aged = conn.execute(
                sqlalchemy.update(tokens)
                .where(tokens.c.token_hash == hashlib.sha256(token.encode()).digest())
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        assert aged.rowcount == 1
    finally:
        engine.dispose()


def test_server_error_codes_reach_the_page(open_tab: Any) -> None:
    tab = open_tab("latchkey.html")
    bogus = tab.call("() => sdk.signUp({ token: 'lk_tok_not_a_real_token' })")
    assert bogus["errorCode"] == "invalid_token"
    assert bogus["errorDescription"]
    assert "data" not in bogus
    assert tab.call("() => sdk.signUp({})")["errorCode"] == "token_required"
    assert tab.call("() => window.tokenExpired") == 0
    assert tab.credentials() == []


def test_an_expired_token_is_reported_as_such(
    open_tab: Any, backend: Backend, latchkey: LiveServer
) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    token = backend.track(user_id)
    _expire(latchkey, token)
    result = tab.call("(t) => sdk.signUp({ token: t })", token)
    assert result["errorCode"] == "expired_token", result
    assert tab.call("() => window.tokenExpired") == 1  # the app's onTokenExpired callback
    assert tab.credentials() == []
    # Tracking again gives a token that works.
    sign_up(tab, backend, user_id)


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
    assert result["data"]["username"] == f"{user_id}@example.com"
    assert len(second.credentials()) == 1


def test_the_button_wins_over_an_autofill_still_loading(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(tab, backend, user_id)
    # Hold the autofill's options (its request has no challengeId) until the button is done.
    tab.call(
        """() => {
          const realFetch = window.fetch;
          window.held = false;
          const gate = new Promise((resolve) => { window.release = resolve; });
          window.fetch = async (url, init) => {
            if (String(url).endsWith("/authentication-options") && init.body === "{}") {
              window.held = true;
              await gate;
            }
            return realFetch(url, init);
          };
        }"""
    )
    tab.call("() => { window.autofill = sdk.signIn({ autofill: true }); }")
    tab.page.wait_for_function("window.held === true")
    button = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    backend.validate_once(token_of(button), user_id)
    # The late options must not start a request (nor cancel anything): the autofill gave way.
    tab.call("() => window.release()")
    autofill = tab.call(
        "() => Promise.race([window.autofill,"
        " new Promise((r) => setTimeout(() => r('pending'), 3000))])"
    )
    assert autofill != "pending", "the superseded autofill started its own request"
    assert autofill["aborted"] is True
    assert autofill["errorCode"] == "aborted"
    assert tab.credentials()[0]["signCount"] == 2


def test_conditional_create_falls_back_to_a_visible_prompt(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    available = tab.call("() => sdk.isAvailable()")
    assert available == {
        "webauthn": True,
        "platform": True,  # the virtual authenticator is a user-verifying internal one
        "autofill": True,
        "conditionalCreate": available["conditionalCreate"],
    }
    capabilities = tab.call("() => PublicKeyCredential.getClientCapabilities()")
    assert available["conditionalCreate"] is bool(capabilities.get("conditionalCreate"))
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
    if available["conditionalCreate"]:
        assert tab.call("() => window.auto")["errorCode"] == "aborted"
    assert tab.call("() => window.unhandled") == []


def test_unknown_credential_is_signalled(open_tab: Any, backend: Backend) -> None:
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
    credential_id = passkey["webauthnCredential"]["credentialId"]
    signals = tab.call("() => window.signals")
    assert {
        "name": "signalUnknownCredential",
        "detail": {"rpId": "localhost", "credentialId": credential_id},
    } in signals
    # Chromium acts on the signal: the authenticator no longer offers the passkey.
    assert tab.credentials() == []


def test_sign_in_signals_current_user_details(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(tab, backend, user_id)
    [before] = tab.credentials()
    assert before["userName"] == f"{user_id}@example.com"
    renamed = backend.http.patch(
        f"/users/{user_id}", json={"username": f"{user_id}@example.org", "displayName": "Ada"}
    )
    assert renamed.status_code == 200, renamed.text
    result = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    backend.validate_once(token_of(result), user_id)
    assert result["data"]["username"] == f"{user_id}@example.org"
    # The passkey provider now shows the server's current name for this passkey.
    [after] = tab.credentials()
    assert (after["userName"], after["userDisplayName"]) == (f"{user_id}@example.org", "Ada")


def test_token_sign_in_signals_all_accepted_credentials(open_tab: Any, backend: Backend) -> None:
    phone: Tab = open_tab("latchkey.html")
    laptop: Tab = open_tab("latchkey.html")
    user_id = new_user()
    sign_up(phone, backend, user_id)
    scoped = backend.track(user_id, scope="add:authenticators")
    backend.validate_once(token_of(laptop.call("(t) => sdk.signUp({ token: t })", scoped)), user_id)
    [on_phone], [on_laptop] = phone.credentials(), laptop.credentials()
    user_handle = _b64url(on_laptop["userHandle"])

    def accepted_after_token_sign_in() -> list[str]:
        laptop.call("() => { window.signals = []; }")
        # A tracked step-up, not "sign-in": a tracked name is reserved for tracked actions, and
        # the other tests of this server sign in anonymously naming "sign-in".
        token = backend.track(user_id, action="step-up")
        result = laptop.call("(t) => sdk.signIn({ token: t })", token)
        backend.validate_once(token_of(result), user_id)
        # Sent in the background, after the result: wait for it.
        laptop.page.wait_for_function(
            "window.signals.some((s) => s.name === 'signalAllAcceptedCredentials')"
        )
        [sent] = [
            s["detail"]
            for s in laptop.call("() => window.signals")
            if s["name"] == "signalAllAcceptedCredentials"
        ]
        assert (sent["rpId"], sent["userId"]) == ("localhost", user_handle)
        return sorted(sent["allAcceptedCredentialIds"])

    both = sorted([_b64url(on_phone["credentialId"]), _b64url(on_laptop["credentialId"])])
    assert accepted_after_token_sign_in() == both
    phone_row = next(
        a
        for a in backend.http.get(f"/users/{user_id}/authenticators").json()
        if a["webauthnCredential"]["credentialId"] == _b64url(on_phone["credentialId"])
    )
    backend.http.delete(f"/users/{user_id}/authenticators/{phone_row['userAuthenticatorId']}")
    assert accepted_after_token_sign_in() == [_b64url(on_laptop["credentialId"])]


def test_the_classic_script_defines_the_global(open_tab: Any, backend: Backend) -> None:
    tab = open_tab("latchkey-classic.html")
    assert tab.call("() => typeof latchkey.Latchkey") == "function"
    assert tab.call("() => typeof latchkey.version") == "string"
    user_id = new_user()
    sign_up(tab, backend, user_id)
    result = tab.call("() => sdk.signIn({ action: 'sign-in' })")
    backend.validate_once(token_of(result), user_id)
