"""The sign-in hot path's dispatcher (api/hot_routes.py) answers exactly as Litestar's own routes.

Every request here is sent twice, with the fast path on and off, and the two answers compared:
status, header names in order, and the body (errors byte for byte; successes by shape, since
they carry fresh ids and tokens).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import httpx
import pytest
from litestar.testing import TestClient

from latchkey.api import hot_routes
from latchkey.api.app import LatchkeyApp
from latchkey.models import Tenant
from tests.web_parties import ORIGIN, Backend, Browser

OPTIONS = "/v1/client/user-authenticators/passkey/authentication-options"
VERIFY = "/v1/client/verify/passkey"
VALIDATE = "/v1/validate"
_FRESH = re.compile(
    rb'"(challengeId|challenge|accessToken|userAuthenticatorId|idempotencyKey|[a-zA-Z]+At)":"[^"]*"'
)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the fast path served itself (not handed to Litestar)."""
    seen: list[str] = []
    made = hot_routes.HotRequest

    def spy(scope: Any) -> Any:
        seen.append(scope["path"])
        return made(scope)

    monkeypatch.setattr(hot_routes, "HotRequest", spy)
    return seen


T = TypeVar("T")


@contextmanager
def _litestar_only(client: TestClient) -> Iterator[None]:
    """Within the block, this app's hot routes are answered by Litestar's own routes."""
    app = cast(LatchkeyApp, client.app)
    hot, app.hot = app.hot, None
    try:
        yield
    finally:
        app.hot = hot


def _on_both_paths(client: TestClient, call: Callable[[], T]) -> tuple[T, T]:
    """What `call` gets from the fast path, then from Litestar."""
    fast = call()
    with _litestar_only(client):
        return fast, call()


def _both(client: TestClient, path: str, **request: Any) -> tuple[httpx.Response, httpx.Response]:
    return _on_both_paths(client, lambda: client.post(path, **request))


def _same(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code, (fast.text, slow.text)
    names = [n for n, _ in fast.headers.raw if n.lower() != b"date"]
    assert names == [n for n, _ in slow.headers.raw if n.lower() != b"date"]
    for name in names:
        if name.lower() != b"content-length":
            assert fast.headers[name.decode()] == slow.headers[name.decode()]
    assert _FRESH.sub(rb'"\1":-', fast.content) == _FRESH.sub(rb'"\1":-', slow.content)


def _client_headers(tenant_id: str, origin: str | None = ORIGIN) -> dict[str, str]:
    headers = Browser(httpx.Client(), tenant_id).headers(None)
    if origin:
        headers["origin"] = origin
    return headers


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (OPTIONS, b"{}"),
        (OPTIONS, b'{"extra": 1}'),
        (OPTIONS, b""),
        (OPTIONS, b"[]"),
        (OPTIONS, b"null"),
        (OPTIONS, b"{bad"),
        (OPTIONS, b'{"challengeId": 5}'),
        (OPTIONS, b'{"challengeId": "' + b"x" * 65 + b'"}'),
        (OPTIONS, b'{"challengeId": "unknown"}'),
        (OPTIONS, b"[" * 5000 + b"]" * 5000),
        (VERIFY, b"{}"),
        (VERIFY, b'{"challengeId": "abc"}'),
        (VERIFY, b'{"challengeId": "abc", "authenticationCredential": {}}'),
        (VERIFY, b'{"challengeId": "abc", "authenticationCredential": []}'),
        (VERIFY, b'{"challengeId": "abc", "authenticationCredential": ' + b"[" * 5000 + b"}"),
        (VERIFY, b"x" * 70_000),
    ],
)
def test_client_routes_answer_as_litestar(
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    path: str,
    body: bytes,
) -> None:
    headers = {**_client_headers(tenant_and_secret[0].id), "content-type": "application/json"}
    _same(*_both(client, path, content=body, headers=headers))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Basic !!!"},
        {"authorization": "Bearer lk_tok_nothing"},
        {"origin": "http://evil.example"},
        {"origin": ORIGIN},
    ],
)
def test_auth_and_origin_errors_answer_as_litestar(
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    headers: dict[str, str],
) -> None:
    if "authorization" not in headers and headers:
        headers = {**_client_headers(tenant_and_secret[0].id, None), **headers}
    _same(*_both(client, OPTIONS, json={}, headers=headers))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x"},
        {"token": 5},
        {"token": "lk_tok_" + "x" * 40},
        {"token": "x" * 600},
        {"token": "x", "userId": "u", "action": "a" * 65},
    ],
)
def test_validate_answers_as_litestar(
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    body: dict[str, Any],
) -> None:
    auth = Backend(client, tenant_and_secret[1]).auth
    _same(*_both(client, VALIDATE, json=body, headers=auth))
    _same(*_both(client, VALIDATE, json=body, headers={}))


def test_a_whole_sign_in_is_served_fast_and_validates_once(
    client: TestClient, backend: Backend, browser: Browser, served: list[str]
) -> None:
    signup = backend.track("fast-user", "signup", username="fast")
    assert browser.sign_up(signup["token"]).status_code == 200
    for _ in range(2):
        verified = browser.sign_in()
        assert verified.status_code == 200, verified.text
        answer = verified.json()
        assert answer["isVerified"] is True
        assert answer["userId"] == "fast-user"
        checked = backend.validate(answer["accessToken"])
        assert checked["isValid"] is True
        assert checked["userId"] == "fast-user"
        assert backend.validate(answer["accessToken"])["isValid"] is False
    assert served.count(OPTIONS) == 2
    assert served.count(VERIFY) == 2
    assert served.count(VALIDATE) == 4


def test_a_signed_in_answer_is_the_same_on_both_paths(
    client: TestClient,
    backend: Backend,
    browser: Browser,
) -> None:
    signup = backend.track("both-paths", "signup")
    assert browser.sign_up(signup["token"]).status_code == 200

    def sign_in_and_check() -> tuple[httpx.Response, httpx.Response]:
        verified = browser.sign_in()
        checked = client.post(
            VALIDATE, json={"token": verified.json()["accessToken"]}, headers=backend.auth
        )
        return verified, checked

    fast, slow = _on_both_paths(client, sign_in_and_check)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])
    assert fast[1].json()["isValid"] is True


def test_a_replayed_or_token_bound_ceremony_fails_the_same_way(
    client: TestClient,
    backend: Backend,
    browser: Browser,
) -> None:
    signup = backend.track("replay-user", "signup")
    assert browser.sign_up(signup["token"]).status_code == 200

    def sign_in_twice() -> tuple[int, int, bytes]:
        begun = browser.post("user-authenticators/passkey/authentication-options", {}).json()
        assertion = browser.authenticator.get(begun["options"], origin=ORIGIN)
        body = {"authenticationCredential": assertion, "challengeId": begun["challengeId"]}
        first = browser.post("verify/passkey", body)
        again = browser.post("verify/passkey", body)
        return first.status_code, again.status_code, again.content

    results = _on_both_paths(client, sign_in_twice)
    assert results[0] == results[1]
    status, replayed, body = results[0]
    assert (status, replayed) == (200, 400)
    assert json.loads(body) == {
        "error": "invalid_request",
        "errorCode": "challenge_used",
        "errorDescription": "this challenge was already used",
    }


def test_a_body_in_several_chunks_is_read_whole(
    client: TestClient,
    tenant_and_secret: tuple[Tenant, str],
    served: list[str],
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"challe'
        yield b'ngeId": null}'

    headers = {**_client_headers(tenant_and_secret[0].id), "content-type": "application/json"}
    answer = client.post(OPTIONS, content=chunks(), headers=headers)
    assert answer.status_code == 200, answer.text
    assert served == [OPTIONS]


def test_the_routes_keep_their_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (OPTIONS, VERIFY, VALIDATE):
        assert "requestBody" in paths[path]["post"]
