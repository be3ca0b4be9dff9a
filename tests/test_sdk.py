"""Latchkey's Python SDK (`latchkey.sdk`) against a real server: each scenario runs with the
sync and the async client; typed results; errors carrying Latchkey's error codes."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from latchkey.sdk import (
    AsyncLatchkeyClient,
    BadRequest,
    Conflict,
    LatchkeyClient,
    LatchkeyError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from tests.live_server import LiveServer, live_server
from tests.web_browser_client import ICLOUD_KEYCHAIN, LiveBrowser

T = TypeVar("T")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("sdk"))) as running:
        yield running


class BlockingAsync:
    """An AsyncLatchkeyClient driven from sync test code: every call awaited on one event loop
    of its own thread (one connection pool; no clash with a loop another test left here)."""

    def __init__(self, client: AsyncLatchkeyClient) -> None:
        self._client = client
        self._worker = ThreadPoolExecutor(1)
        self._runner = asyncio.Runner()

    def _wait(self, awaitable: Coroutine[Any, Any, T]) -> T:
        return self._worker.submit(self._runner.run, awaitable).result()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        return lambda *args, **kwargs: self._wait(method(*args, **kwargs))

    def close(self) -> None:
        self._wait(self._client.aclose())
        self._worker.submit(self._runner.close).result()
        self._worker.shutdown()


@pytest.fixture(params=["sync", "async"])
def latchkey(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[Any]:
    """The SDK client under test: LatchkeyClient, or AsyncLatchkeyClient behind BlockingAsync."""
    if request.param == "sync":
        with LatchkeyClient(server.secret, f"{server.url}/v1") as client:
            yield client
    else:
        blocking = BlockingAsync(AsyncLatchkeyClient(server.secret, f"{server.url}/v1"))
        yield blocking
        blocking.close()


@pytest.fixture
def browser(server: LiveServer) -> Iterator[LiveBrowser]:
    opened = LiveBrowser(server)
    yield opened
    opened.close()


def _new_user_id() -> str:
    return f"sdk-{secrets.token_hex(6)}"


def _enrol(latchkey: Any, browser: LiveBrowser) -> tuple[str, Any, dict[str, Any]]:
    """A new user who signed up with a passkey: (user id, the TrackResult, the browser's
    sign-up answer, its result token not yet validated)."""
    user_id = _new_user_id()
    tracked = latchkey.track(
        user_id, "add-passkey", {"username": "ada@example.com", "displayName": "Ada"}
    )
    return user_id, tracked, browser.sign_up(tracked.token)


def _recent(moment: datetime | None) -> bool:
    return moment is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


def test_track_answers_a_typed_result(latchkey: Any) -> None:
    tracked = latchkey.track(_new_user_id(), "add-passkey", {"username": "ada"})
    assert tracked.state == "CHALLENGE_REQUIRED"
    assert tracked.token.startswith("lk_tok_")
    assert tracked.idempotency_key
    assert tracked.is_enrolled is False
    assert tracked.enrolled_verification_methods == ()
    assert tracked.allowed_verification_methods == ("PASSKEY",)
    # The hosted page that runs the challenge (`launch(url)`), the token in its fragment.
    assert tracked.url is not None
    assert tracked.url.endswith(f"/action#token={tracked.token}")
    assert tracked.raw["idempotencyKey"] == tracked.idempotency_key
    assert tracked.raw["token"] == tracked.token


def test_sign_up_result_token_is_valid_exactly_once(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, tracked, signed_up = _enrol(latchkey, browser)
    result = latchkey.validate(signed_up["accessToken"])
    assert result.is_valid is True
    assert (result.user_id, result.action, result.state) == (
        user_id,
        "add-passkey",
        "CHALLENGE_SUCCEEDED",
    )
    assert result.idempotency_key == tracked.idempotency_key
    assert result.verification_method == "PASSKEY"
    assert (result.username, result.display_name) == ("ada@example.com", "Ada")
    assert _recent(result.created_at)
    assert _recent(result.state_updated_at)
    assert result.raw["isValid"] is True

    replayed = latchkey.validate(signed_up["accessToken"])
    assert replayed.is_valid is False


def test_validate_refuses_other_users_actions_and_unknown_tokens(
    latchkey: Any, browser: LiveBrowser
) -> None:
    user_id, _, signed_up = _enrol(latchkey, browser)
    token = signed_up["accessToken"]
    assert latchkey.validate(token, user_id="someone-else").is_valid is False
    assert latchkey.validate(token, action="sign-in").is_valid is False
    assert latchkey.validate(token, user_id=user_id, action="add-passkey").is_valid is True

    unknown = latchkey.validate("lk_tok_" + secrets.token_urlsafe(32))
    assert unknown.is_valid is False
    assert (unknown.user_id, unknown.state, unknown.created_at) == (None, None, None)


def test_sign_in_round_trip(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, _, signed_up = _enrol(latchkey, browser)
    assert latchkey.validate(signed_up["accessToken"]).is_valid

    again = latchkey.track(user_id, "sign-in")
    assert again.is_enrolled is True
    assert again.enrolled_verification_methods == ("PASSKEY",)

    # A tracked step-up: the browser signs in with its action token (the name is reserved).
    signed_in = browser.sign_in(again.token, action=None)
    result = latchkey.validate(signed_in["accessToken"], action="sign-in")
    assert (result.is_valid, result.is_anonymous) == (True, False)
    assert (result.user_id, result.action, result.username) == (
        user_id,
        "sign-in",
        "ada@example.com",
    )
    assert latchkey.validate(signed_in["accessToken"]).is_valid is False
    [passkey] = latchkey.get_authenticators(user_id)
    assert _recent(passkey.last_verified_at)


def test_get_update_and_delete_user(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, _, _ = _enrol(latchkey, browser)
    user = latchkey.get_user(user_id)
    assert (user.user_id, user.is_enrolled, user.username) == (user_id, True, "ada@example.com")
    assert user.enrolled_verification_methods == ("PASSKEY",)
    assert user.allowed_verification_methods == ("PASSKEY",)

    changed = latchkey.update_user(
        user_id, {"email": "ada@example.org", "phoneNumber": "+14155552671", "displayName": "A."}
    )
    assert (changed.email, changed.phone_number, changed.display_name) == (
        "ada@example.org",
        "+14155552671",
        "A.",
    )
    assert changed.username == "ada@example.com"  # untouched
    assert latchkey.get_user(user_id) == changed
    with pytest.raises(BadRequest) as refused:
        latchkey.update_user(user_id, {"email": "not an address"})
    assert (refused.value.status_code, refused.value.error_code) == (400, "invalid_request")
    assert latchkey.get_user(user_id).email == "ada@example.org"

    assert latchkey.delete_user(user_id) is None
    gone = latchkey.get_user(user_id)
    assert (gone.user_id, gone.is_enrolled, gone.email) == (user_id, False, None)
    assert latchkey.get_authenticators(user_id) == []
    with pytest.raises(NotFound) as missing:
        latchkey.delete_user(user_id)
    assert (missing.value.status_code, missing.value.error_code) == (404, "user_not_found")
    assert missing.value.error == "not_found"


def test_list_and_delete_authenticators(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, _, signed_up = _enrol(latchkey, browser)
    [passkey] = latchkey.get_authenticators(user_id)
    assert passkey.user_authenticator_id
    assert passkey.verification_method == "PASSKEY"
    assert passkey.credential_id == signed_up["credentialId"]
    assert (passkey.aaguid, passkey.aaguid_name) == (ICLOUD_KEYCHAIN, "iCloud Keychain")
    assert passkey.credential_backed_up is True
    assert passkey.credential_device_type == "multiDevice"
    assert passkey.authenticator_attachment == "platform"
    assert set(passkey.transports) == {"internal", "hybrid"}
    assert _recent(passkey.created_at)
    assert passkey.raw["webauthnCredential"]["credentialId"] == passkey.credential_id

    assert latchkey.delete_authenticator(user_id, passkey.user_authenticator_id) is None
    assert latchkey.get_authenticators(user_id) == []
    assert latchkey.get_user(user_id).is_enrolled is False
    with pytest.raises(NotFound) as missing:
        latchkey.delete_authenticator(user_id, passkey.user_authenticator_id)
    assert missing.value.error_code == "credential_not_found"


def test_get_and_update_action(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, tracked, signed_up = _enrol(latchkey, browser)
    key = tracked.idempotency_key
    action = latchkey.get_action(user_id, "add-passkey", key)
    assert (action.user_id, action.action, action.idempotency_key) == (user_id, "add-passkey", key)
    assert action.state == "CHALLENGE_SUCCEEDED"
    assert action.verification_method == "PASSKEY"

    changed = latchkey.update_action(user_id, "add-passkey", key, "REVIEW_REQUIRED")
    assert changed.state == "REVIEW_REQUIRED"
    assert changed.state_updated_at >= action.state_updated_at
    assert latchkey.get_action(user_id, "add-passkey", key).state == "REVIEW_REQUIRED"
    assert latchkey.validate(signed_up["accessToken"]).is_valid is False  # no longer succeeded

    with pytest.raises(BadRequest) as refused:
        latchkey.update_action(user_id, "add-passkey", key, "MAYBE")
    assert refused.value.error_code == "invalid_request"
    with pytest.raises(NotFound):
        latchkey.get_action(user_id, "add-passkey", "no-such-key")


def test_wrong_secret_is_unauthorized(server: LiveServer) -> None:
    for client in (
        LatchkeyClient("lk_secret_wrong", f"{server.url}/v1"),
        BlockingAsync(AsyncLatchkeyClient("lk_secret_wrong", f"{server.url}/v1")),
    ):
        with pytest.raises(Unauthorized) as refused:
            client.track("u", "sign-in")
        client.close()
        assert refused.value.status_code == 401
        assert (refused.value.error, refused.value.error_code) == (
            "unauthorized",
            "invalid_api_key",
        )
        assert refused.value.description
        assert isinstance(refused.value, LatchkeyError)


def test_path_segments_are_escaped(latchkey: Any) -> None:
    for user_id in ("ada@example.com?x y|z#f", "50%2F50", "..", "Zoë"):
        tracked = latchkey.track(user_id, "sign-in")
        assert latchkey.get_user(user_id).user_id == user_id
        action = latchkey.get_action(user_id, "sign-in", tracked.idempotency_key)
        assert action.user_id == user_id


def test_unreachable_server_is_a_transport_error() -> None:
    for client in (
        LatchkeyClient("lk_secret_x", "http://127.0.0.1:9/v1", timeout=2),
        BlockingAsync(AsyncLatchkeyClient("lk_secret_x", "http://127.0.0.1:9/v1", timeout=2)),
    ):
        with pytest.raises(TransportError) as failed:
            client.get_user("u")
        client.close()
        assert failed.value.status_code is None
        assert "lk_secret_x" not in str(failed.value)


def test_async_client_concurrent_validations_succeed_once(
    server: LiveServer, browser: LiveBrowser
) -> None:
    async def scenario() -> list[bool]:
        async with AsyncLatchkeyClient(server.secret, f"{server.url}/v1") as latchkey:
            tracked = await latchkey.track(_new_user_id(), "add-passkey")
            token = await asyncio.to_thread(lambda: browser.sign_up(tracked.token)["accessToken"])
            results = await asyncio.gather(*(latchkey.validate(token) for _ in range(6)))
            return [result.is_valid for result in results]

    with ThreadPoolExecutor(1) as worker:  # its own thread: see BlockingAsync
        outcomes = worker.submit(asyncio.run, scenario()).result()
    assert sorted(outcomes) == [False] * 5 + [True]


# The request and response layer, against a recording transport (no server).


def _recording(answer: httpx.Response, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers every request with `answer` (sync and async), noting each in `seen`."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def test_requests_carry_basic_auth_escaped_paths_and_json() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, json={"userId": "a/b", "isEnrolled": False})
    transport = _recording(answer, seen)
    with LatchkeyClient("lk_secret_s", "http://lk.test/v1/", transport=transport) as client:
        user = client.update_user("a/b", {"displayName": "A B"})
    blocking = BlockingAsync(
        AsyncLatchkeyClient("lk_secret_s", "http://lk.test/v1", transport=transport)
    )
    blocking.update_user("a/b", {"displayName": "A B"})
    blocking.close()

    assert user.user_id == "a/b"
    assert len(seen) == 2
    for request in seen:
        assert request.method == "PATCH"
        assert request.url.raw_path == b"/v1/users/a%2Fb"
        expected = base64.b64encode(b"lk_secret_s:").decode()
        assert request.headers["authorization"] == f"Basic {expected}"
        assert json.loads(request.content) == {"displayName": "A B"}


def test_validate_sends_only_what_is_given() -> None:
    seen: list[httpx.Request] = []
    transport = _recording(httpx.Response(200, json={"isValid": False}), seen)
    with LatchkeyClient("lk_secret_s", "http://lk.test/v1", transport=transport) as client:
        assert client.validate("lk_tok_x").is_valid is False
        client.validate("lk_tok_x", action="sign-in")
    assert [json.loads(request.content) for request in seen] == [
        {"token": "lk_tok_x"},
        {"token": "lk_tok_x", "action": "sign-in"},
    ]


@pytest.mark.parametrize(
    ("answer", "kind", "code"),
    [
        (httpx.Response(429, headers={"retry-after": "7"}, json={}), RateLimited, None),
        (httpx.Response(503, text="<html>bad gateway</html>"), ServerError, None),
        (
            httpx.Response(
                409,
                json={
                    "error": "conflict",
                    "errorCode": "identifier_taken",
                    "errorDescription": "x",
                },
            ),
            Conflict,
            "identifier_taken",
        ),
        (httpx.Response(200, text="<html>a proxy's page</html>"), LatchkeyError, None),
        (httpx.Response(200, json={"unexpected": True}), LatchkeyError, None),
    ],
)
def test_refusals_and_odd_answers_become_sdk_errors(
    answer: httpx.Response, kind: type[LatchkeyError], code: str | None
) -> None:
    client = LatchkeyClient(
        "lk_secret_hidden", "http://lk.test/v1", transport=_recording(answer, [])
    )
    with pytest.raises(kind) as raised:
        client.get_user("u")
    assert raised.value.status_code == answer.status_code
    assert raised.value.error_code == code
    assert "lk_secret_hidden" not in str(raised.value) + repr(client)
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 7.0


def test_identifiers_must_be_non_empty_strings() -> None:
    with LatchkeyClient("lk_secret_s", "http://lk.test/v1") as client:
        with pytest.raises(ValueError, match="non-empty"):
            client.get_user("")
        with pytest.raises(ValueError, match="secret_key"):
            LatchkeyClient("")


def test_idempotent_track_list_calls_and_new_fields(latchkey: Any, browser: LiveBrowser) -> None:
    user_id, tracked, signed_up = _enrol(latchkey, browser)
    key = f"key-{secrets.token_hex(8)}"
    first = latchkey.track(user_id, "withdraw", {"idempotencyKey": key})
    again = latchkey.track(user_id, "withdraw", {"idempotencyKey": key})
    assert (again.idempotency_key, again.token) == (key, first.token)
    reviewed = latchkey.update_action(user_id, "withdraw", key, "REVIEW_SUCCEEDED")
    assert reviewed.state == "REVIEW_SUCCEEDED"

    listed = latchkey.query_user_actions(user_id)
    assert [(a.action, a.state) for a in listed] == [
        ("withdraw", "REVIEW_SUCCEEDED"),
        ("add-passkey", "CHALLENGE_SUCCEEDED"),
    ]
    assert listed[1].idempotency_key == tracked.idempotency_key
    assert [a.action for a in latchkey.query_user_actions(user_id, codes=["withdraw"])] == [
        "withdraw"
    ]
    assert latchkey.query_user_actions(user_id, state="BLOCK") == []

    user = latchkey.update_user(
        user_id, {"emailVerified": True, "email": "ada@example.com", "custom": {"tier": 2}}
    )
    assert (user.email_verified, user.phone_number_verified, user.custom) == (
        True,
        False,
        {"tier": 2},
    )
    page = latchkey.query_users(email="ada@example.com", limit=100)
    assert user_id in [u.user_id for u in page.users]
    [mine] = [u for u in page.users if u.user_id == user_id]
    assert mine.email_verified is True
    [passkey] = latchkey.get_authenticators(user_id)
    assert passkey.user_id == user_id
    assert signed_up["userAuthenticator"]["userId"] == user_id
