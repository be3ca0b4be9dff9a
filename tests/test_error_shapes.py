"""Each surface answers errors in its own shape, byte for byte, including the errors the router
raises before a route is chosen (unknown path, method not allowed); every 405 names the methods
the path serves in `Allow` (RFC 9110 §15.5.6)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.runtime import Runtime
from latchkey.store import migrate
from latchkey.store.engine import make_engine

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module: these answers never reach the store."""
    path: Path = tmp_path_factory.mktemp("shapes") / "latchkey.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    rt = Runtime(engine=engine, master_key=secrets.token_bytes(32))
    with TestClient(create_app(rt, Settings()), raise_server_exceptions=False) as test_client:
        yield test_client
    engine.dispose()


# (method, path, status, body: compared byte for byte, in this key order). The POSTs send "{":
# not JSON.
ANSWERS = [
    ("GET", "/nope", 404, {"error": "not_found", "message": "Not Found"}),
    ("PUT", "/health", 405, {"error": "method_not_allowed", "message": "Method Not Allowed"}),
    (
        "GET",
        "/api/v1/tenants/T/registration/options",
        405,
        {"error": "method_not_allowed", "message": "Method Not Allowed"},
    ),
    (
        "POST",
        "/api/v1/tenants/T/registration/options",
        400,
        {"error": "invalid_json", "message": "the request body is not valid JSON"},
    ),
    ("GET", "/api/v1/tenants/T/nope", 404, {"error": "not_found", "message": "Not Found"}),
    (
        "GET",
        "/v1/validate",
        405,
        {
            "error": "invalid_request",
            "errorCode": "method_not_allowed",
            "errorDescription": "Method Not Allowed",
        },
    ),
    (
        "POST",
        "/v1/validate",
        400,
        {
            "error": "invalid_request",
            "errorCode": "invalid_json",
            "errorDescription": "the request body is not valid JSON",
        },
    ),
    (
        "GET",
        "/v1/nope",
        404,
        {"error": "not_found", "errorCode": "not_found", "errorDescription": "Not Found"},
    ),
    (
        "PUT",
        "/v1/client/challenge",
        405,
        {
            "error": "invalid_request",
            "errorCode": "method_not_allowed",
            "errorDescription": "Method Not Allowed",
        },
    ),
    (
        "GET",
        "/v1/client/nope",
        404,
        {"error": "not_found", "errorCode": "not_found", "errorDescription": "Not Found"},
    ),
    (
        "GET",
        "/t/T/oauth/token",
        405,
        {"error": "invalid_request", "error_description": "Method Not Allowed"},
    ),
    (
        "POST",
        "/t/T/oauth/token",
        400,
        {"error": "invalid_request", "error_description": "the request body is not valid JSON"},
    ),
    ("GET", "/t/T/nope", 404, {"error": "not_found", "message": "Not Found"}),
    (
        "GET",
        "/t/T/userinfo",
        404,
        {"error": "tenant_not_found", "error_description": "no tenant 'T'"},
    ),
    (
        "DELETE",
        "/t/T/userinfo",
        405,
        {"error": "invalid_request", "error_description": "Method Not Allowed"},
    ),
    (
        "GET",
        "/oauth/token",
        405,
        {"error": "invalid_request", "error_description": "Method Not Allowed"},
    ),
    ("GET", "/oauth/nope", 404, {"error": "not_found", "error_description": "Not Found"}),
    (
        "POST",
        "/passkey/challenge",
        400,
        {"error": "invalid_request", "error_description": "the request body is not valid JSON"},
    ),
    (
        "GET",
        "/t/T/.well-known/webauthn",
        404,
        {"error": "tenant_not_found", "message": "no tenant 'T'"},
    ),
    (
        "GET",
        "/t/T/.well-known/assetlinks.json",
        404,
        {"error": "tenant_not_found", "message": "no tenant 'T'"},
    ),
    (
        "GET",
        "/.well-known/webauthn",
        404,
        {"error": "tenant_not_found", "message": "no tenant serves the domain 'testserver.local'"},
    ),
    (
        "POST",
        "/.well-known/webauthn",
        405,
        {"error": "method_not_allowed", "message": "Method Not Allowed"},
    ),
    ("GET", "/.well-known/nope", 404, {"error": "not_found", "message": "Not Found"}),
    (
        "GET",
        "/T/identity/P/register/webauthn/begin",
        405,
        {
            "error": "Method Not Allowed",
            "error_code": "method_not_allowed",
            "status_code": 405,
            "details": {},
        },
    ),
    (
        "POST",
        "/T/identity/P/register/webauthn/begin",
        400,
        {
            "error": "the request body is not valid JSON",
            "error_code": "invalid_json",
            "status_code": 400,
            "details": {},
        },
    ),
    (
        "GET",
        "/T/identity/P/nope",
        404,
        {"error": "Not Found", "error_code": "not_found", "status_code": 404, "details": {}},
    ),
    (
        "GET",
        "/T/identity/P/signin",
        404,
        {
            "error": "no tenant 'T'",
            "error_code": "tenant_not_found",
            "status_code": 404,
            "details": {},
        },
    ),
    (
        "PUT",
        "/T/identity/P/signin",
        405,
        {
            "error": "Method Not Allowed",
            "error_code": "method_not_allowed",
            "status_code": 405,
            "details": {},
        },
    ),
    (
        "PUT",
        "/admin/v1/tenants",
        405,
        {"error": "method_not_allowed", "message": "Method Not Allowed"},
    ),
    ("GET", "/admin/v1/nope", 404, {"error": "not_found", "message": "Not Found"}),
    (
        "GET",
        "/admin/v1/tenants",
        401,
        {
            "error": "invalid_operator_token",
            "message": "send an operator API token: Authorization: Bearer lk_op_...",
        },
    ),
    ("PUT", "/portal/login", 405, {"error": "method_not_allowed", "message": "Method Not Allowed"}),
    ("GET", "/portal/nope", 404, {"error": "not_found", "message": "Not Found"}),
    (
        "GET",
        "/static/nope.js",
        404,
        {"error": "not_found", "message": "no file or directory match the path nope.js was found"},
    ),
    ("POST", "/sdk/x.js", 405, {"error": "method_not_allowed", "message": "Method Not Allowed"}),
    (
        "GET",
        "/sdk/nope.js",
        404,
        {"error": "not_found", "message": "no file or directory match the path nope.js was found"},
    ),
    (
        "DELETE",
        "/openapi.json",
        405,
        {"error": "method_not_allowed", "message": "Method Not Allowed"},
    ),
]


@pytest.mark.parametrize(("method", "path", "status", "body"), ANSWERS)
def test_error_shape(
    client: TestClient, method: str, path: str, status: int, body: dict[str, Any]
) -> None:
    content = b"{" if method == "POST" and status == 400 else None
    answer = client.request(method, path, content=content, headers=JSON if content else {})
    assert (answer.status_code, answer.content) == (status, msgspec.json.encode(body))
    assert answer.headers["content-type"] == "application/json"


def test_association_file_errors_are_not_oauth_shaped(client: TestClient) -> None:
    # They sit beside the OpenID endpoints under /t/{tenant}/.well-known/, but Apple, Google and
    # browsers fetch them: the plain shape, not {"error", "error_description"}.
    for name in ("apple-app-site-association", "assetlinks.json", "webauthn"):
        answer = client.get(f"/t/nobody/.well-known/{name}")
        assert answer.json() == {"error": "tenant_not_found", "message": "no tenant 'nobody'"}


def _example(route: HTTPRoute) -> str:
    return "/" + "/".join(c if isinstance(c, str) else "x" for c in route.path_components)


def test_every_405_carries_allow(client: TestClient) -> None:
    checked = set()
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        missing = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - set(route.methods))
        if not missing:
            continue
        answer = client.request(missing[0], _example(route))
        assert answer.status_code == 405, (route.path, answer.text)
        assert answer.headers["allow"] == ", ".join(sorted(route.methods)), route.path
        assert answer.json()  # in the surface's JSON shape (pinned above per surface)
        checked.add(route.path.split("/")[1])
    # Every surface was swept: /v1, /t, /api, /admin, /portal, pools (/{tenant}), the root.
    assert {"v1", "t", "api", "admin", "portal", "{tenant_id:str}", "oauth", "health"} <= checked
