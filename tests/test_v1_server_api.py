"""The server API's calls the vendor SDKs make beyond track and validate (issue 18 items
12, 15, 16): idempotent track, the list calls with their filters and paging, and the user and
authenticator fields the SDK types promise. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from latchkey.runtime import Runtime
from tests.support.clock import FakeClock
from tests.web_parties import Backend, Browser


def _get(backend: Backend, path: str, **params: Any) -> Any:
    return backend.http.get(path, params=params, headers=backend.auth)


def test_track_with_an_idempotency_key_answers_the_same_action_and_token(
    backend: Backend, browser: Browser
) -> None:
    key = "5f8a3c1e-9b2d-4e6f-8a7b-1c2d3e4f5a6b"
    first = backend.track("i-1", "add-passkey", idempotencyKey=key, username="ida")
    again = backend.track("i-1", "add-passkey", idempotencyKey=key)
    assert first["idempotencyKey"] == again["idempotencyKey"] == key
    assert first["token"] == again["token"]
    found = _get(backend, f"/v1/users/i-1/actions/add-passkey/{key}")
    assert (found.status_code, found.json()["state"]) == (200, "CHALLENGE_REQUIRED")

    signed_up = browser.sign_up(first["token"])
    assert signed_up.status_code == 200, signed_up.text
    # Tracking again after the success: the same action, now done; its token starts nothing.
    done = backend.track("i-1", "add-passkey", idempotencyKey=key)
    assert (done["state"], done["token"]) == ("CHALLENGE_SUCCEEDED", first["token"])
    refused = browser.sign_up(done["token"])
    assert (refused.status_code, refused.json()["errorCode"]) == (403, "action_closed")
    assert backend.validate(signed_up.json()["accessToken"])["idempotencyKey"] == key

    # A key is one action's: another user or action name with it is a conflict.
    for user_id, action in (("i-2", "add-passkey"), ("i-1", "sign-in")):
        clash = backend.http.post(
            f"/v1/users/{user_id}/actions/{action}",
            json={"idempotencyKey": key},
            headers=backend.auth,
        )
        assert (clash.status_code, clash.json()["errorCode"]) == (409, "idempotency_key_conflict")
    bad = backend.http.post(
        "/v1/users/i-1/actions/sign-in", json={"idempotencyKey": "a b"}, headers=backend.auth
    )
    assert (bad.status_code, bad.json()["errorCode"]) == (400, "invalid_idempotency_key")
    # Without a key every track is a new action with a new token.
    one, two = backend.track("i-1", "sign-in"), backend.track("i-1", "sign-in")
    assert one["idempotencyKey"] != two["idempotencyKey"]
    assert one["token"] != two["token"]


def test_query_users_filters_and_pages(backend: Backend) -> None:
    for n in range(5):
        backend.track(f"q-{n}", "sign-in", username=f"user{n}", email=f"u{n}@example.com")
    backend.track("q-x", "sign-in", username="other", phoneNumber="+14155550100")
    first = _get(backend, "/v1/users", limit=2)
    assert first.status_code == 200, first.text
    assert [u["userId"] for u in first.json()["users"]] == ["q-0", "q-1"]
    assert first.json()["lastEvaluatedUserId"] == "q-1"
    seen = [u["userId"] for u in first.json()["users"]]
    last = first.json()["lastEvaluatedUserId"]
    while last:
        page = _get(backend, "/v1/users", limit=2, lastEvaluatedUserId=last).json()
        seen += [u["userId"] for u in page["users"]]
        last = page.get("lastEvaluatedUserId")
    assert seen == ["q-0", "q-1", "q-2", "q-3", "q-4", "q-x"]

    [by_email] = _get(backend, "/v1/users", email="U3@example.com").json()["users"]
    assert by_email == {
        "userId": "q-3",
        "email": "u3@example.com",
        "emailVerified": False,
        "phoneNumber": None,
        "phoneNumberVerified": False,
        "username": "user3",
    }
    [by_phone] = _get(backend, "/v1/users", phoneNumber="+14155550100").json()["users"]
    assert by_phone["userId"] == "q-x"
    assert _get(backend, "/v1/users", username="user1").json()["users"][0]["userId"] == "q-1"
    assert _get(backend, "/v1/users", username="nobody").json() == {"users": []}
    token = backend.track("q-2", "sign-in")["token"]
    assert [u["userId"] for u in _get(backend, "/v1/users", token=token).json()["users"]] == ["q-2"]
    assert _get(backend, "/v1/users", token="lk_tok_unknown").json() == {"users": []}
    too_many = _get(backend, "/v1/users", limit=101)
    assert (too_many.status_code, too_many.json()["errorCode"]) == (400, "invalid_request")


def test_query_user_actions_filters(backend: Backend, browser: Browser, clock: FakeClock) -> None:
    tracked = backend.track("a-1", "add-passkey")
    assert browser.sign_up(tracked["token"]).status_code == 200
    clock.advance(seconds=1)  # newest first
    blocked = backend.track("a-1", "withdraw")
    backend.http.patch(
        f"/v1/users/a-1/actions/withdraw/{blocked['idempotencyKey']}",
        json={"state": "BLOCK"},
        headers=backend.auth,
    )
    listed = _get(backend, "/v1/users/a-1/actions")
    assert listed.status_code == 200, listed.text
    assert [(a["actionCode"], a["state"]) for a in listed.json()] == [
        ("withdraw", "BLOCK"),
        ("add-passkey", "CHALLENGE_SUCCEEDED"),
    ]
    done = listed.json()[1]
    assert done["idempotencyKey"] == tracked["idempotencyKey"]
    assert done["verificationMethod"] == "PASSKEY"
    [authenticator] = _get(backend, "/v1/users/a-1/authenticators").json()
    assert done["verifiedByAuthenticatorId"] == authenticator["userAuthenticatorId"]
    assert authenticator["userId"] == "a-1"

    def codes(**params: Any) -> list[str]:
        return [a["actionCode"] for a in _get(backend, "/v1/users/a-1/actions", **params).json()]

    assert codes(state="BLOCK") == ["withdraw"]
    assert codes(codes="add-passkey,sign-in") == ["add-passkey"]
    assert codes(fromDate="2999-01-01T00:00:00.000Z") == []
    assert codes(fromDate="2000-01-01") == ["withdraw", "add-passkey"]
    assert _get(backend, "/v1/users/nobody/actions").json() == []
    for params in ({"state": "DONE"}, {"fromDate": "yesterday"}, {"codes": "a b"}):
        bad = _get(backend, "/v1/users/a-1/actions", **params)
        assert (bad.status_code, bad.json()["errorCode"]) == (400, "invalid_request")


def test_user_fields_the_sdk_types_promise(backend: Backend) -> None:
    backend.track("f-1", "sign-in", email="f@example.com")
    path = "/v1/users/f-1"
    user = _get(backend, path).json()
    assert (user["emailVerified"], user["phoneNumberVerified"], user["custom"]) == (
        False,
        False,
        {},
    )
    changed = backend.http.patch(
        path,
        json={
            "emailVerified": True,
            "phoneNumber": "+14155550101",
            "phoneNumberVerified": True,
            "custom": {"plan": "gold", "seats": 3, "trial": False},
        },
        headers=backend.auth,
    ).json()
    assert (changed["emailVerified"], changed["phoneNumberVerified"]) == (True, True)
    assert changed["custom"] == {"plan": "gold", "seats": 3, "trial": False}
    assert _get(backend, path).json()["custom"] == changed["custom"]
    # A new e-mail address is not verified unless the call says so.
    moved = backend.http.patch(path, json={"email": "new@example.com"}, headers=backend.auth)
    assert (moved.json()["emailVerified"], moved.json()["phoneNumberVerified"]) == (False, True)
    for bad in ({"custom": {"nested": {"a": 1}}}, {"custom": {"": 1}}, {"emailVerified": "yes"}):
        refused = backend.http.patch(path, json=bad, headers=backend.auth)
        assert (refused.status_code, refused.json()["errorCode"]) == (400, "invalid_request")
    assert _get(backend, path).json()["custom"] == changed["custom"]
    assert _get(backend, "/v1/users/unknown").json()["emailVerified"] is False


def test_track_answers_the_hosted_page_url_and_checks_the_redirect(
    backend: Backend, browser: Browser, tenant_and_secret: Any
) -> None:
    tenant = tenant_and_secret[0]
    tracked = backend.track("h-1", "add-passkey", redirectUrl="https://app.example.com/done?x=1")
    assert (
        tracked["url"]
        == f"http://localhost:8000/hosted/{tenant.id}/action#token={tracked['token']}"
    )
    page = backend.http.get(f"/hosted/{tenant.id}/action")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    state = browser.http.get("/v1/client/action", headers=browser.headers(tracked["token"]))
    assert state.json() == {
        "action": "add-passkey",
        "state": "CHALLENGE_REQUIRED",
        "isEnrolled": False,
        "redirectUrl": "https://app.example.com/done?x=1",
        "origins": list(tenant.web_origins),
    }
    anonymous = browser.http.get("/v1/client/action", headers=browser.headers(None))
    assert (anonymous.status_code, anonymous.json()["errorCode"]) == (401, "invalid_token")
    for bad in ("javascript:alert(1)", "http://evil.example.com/", "https://a@b.example/", "/x"):
        refused = backend.http.post(
            "/v1/users/h-1/actions/add-passkey", json={"redirectUrl": bad}, headers=backend.auth
        )
        assert (refused.status_code, refused.json()["errorCode"]) == (400, "invalid_redirect_url")


def test_query_users_says_which_contacts_were_proved(
    backend: Backend, rt: Runtime, tenant_and_secret: Any
) -> None:
    """An address its owner proved (a recovery or sign-up code: user_identifiers.verified_at)
    is emailVerified in queryUsers as in getUser."""
    from latchkey.services import directories
    from latchkey.store import identifiers as identifier_store
    from latchkey.store import users as user_store

    backend.track("p-1", "sign-in", email="proved@example.com")
    tenant = tenant_and_secret[0]
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, "p-1")
        assert user is not None
        directory = directories.default_id(conn, tenant.id)
        identifier_store.add(
            conn, directory_id=directory, kind="email", value="proved@example.com", user_id=user.id
        )
        identifier_store.mark_verified(conn, user_id=user.id, kind="email", when=rt.now())
    [listed] = _get(backend, "/v1/users", email="proved@example.com").json()["users"]
    assert listed["emailVerified"] is True
    assert _get(backend, "/v1/users/p-1").json()["emailVerified"] is True
