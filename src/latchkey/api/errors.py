"""The one place where errors become HTTP answers, in each surface's shape.

The ceremony API answers {"error": code, "message"}; the vendor-compatible /v1 surface answers
{"error", "errorCode", "errorDescription"}, which its SDKs read; OAuth endpoints answer
{"error", "error_description"}; identity pools {"error", "error_code", "status_code", "details"}.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from latchkey.errors import LatchkeyError
from latchkey.services.ratelimit import RateLimited

log = logging.getLogger("latchkey.api")

_HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

_V1_CATEGORIES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "invalid_request",
    409: "conflict",
    413: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


# OAuth 2.0 error codes (RFC 6749 §5.2, RFC 6750 §3.1) for domain errors that are not OAuth's own.
_OAUTH_CODES = {401: "invalid_client", 429: "too_many_requests", 503: "temporarily_unavailable"}
_OAUTH_OWN = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
}


def _oauth_surface(path: str) -> bool:
    # Under /t/{tenantId}/, or at the root for a tenant's own domain.
    return path.startswith(("/t/", "/passkey/", "/oauth/", "/userinfo", "/.well-known/"))


def _pool_surface(path: str) -> bool:
    # /{tenantId}/identity/{poolId}/...
    parts = path.split("/", 4)
    return len(parts) > 3 and parts[2] == "identity"


def error_body(path: str, status: int, code: str, message: str) -> dict[str, Any]:
    if _pool_surface(path):
        # The identity-pool products' shape: a human `error`, a machine `error_code`.
        return {"error": message, "error_code": code, "status_code": status, "details": {}}
    if _oauth_surface(path):
        oauth_code = (
            code
            if code in _OAUTH_OWN or status == 404
            else _OAUTH_CODES.get(status, "invalid_request")
        )
        return {"error": oauth_code, "error_description": message}
    if path.startswith("/v1/"):
        return {
            "error": _V1_CATEGORIES.get(status, "error"),
            "errorCode": code,
            "errorDescription": message,
        }
    return {"error": code, "message": message}


def error_response(
    request: Request[Any, Any, Any], status: int, code: str, message: str
) -> Response[Any]:
    if _oauth_surface(request.url.path) and status == 409:
        status = 400  # OAuth has no conflict: a taken identifier is an invalid_request
    return Response(error_body(request.url.path, status, code, message), status_code=status)


def _domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, LatchkeyError)
    response = error_response(request, exc.status, exc.code, exc.message)
    if isinstance(exc, RateLimited):
        response.headers["retry-after"] = str(exc.retry_after)
    return response


def _validation(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ValidationException)
    first: dict[str, Any] = exc.extra[0] if isinstance(exc.extra, list) and exc.extra else {}
    where = first.get("key") or "body"
    message = f"{where}: {first.get('message', exc.detail)}"
    return error_response(request, 400, "invalid_request", message)


def _http(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, SerializationException):
        return error_response(request, 400, "invalid_json", "the request body is not valid JSON")
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(request, exc.status_code, code, str(exc.detail))


def _too_deep(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The JSON decoder stops at its recursion limit: a hostile body, not a server fault.
    return error_response(request, 400, "invalid_json", "the JSON body is nested too deeply")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc.__cause__, RecursionError) or isinstance(exc, RecursionError):
        return _too_deep(request, exc)
    # The traceback goes to the log (never request bodies or headers); the caller gets no detail.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", "an unexpected error occurred")


Handler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]

HANDLERS: dict[type[Exception], Handler] = {
    LatchkeyError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    RecursionError: _too_deep,
    Exception: _unexpected,
}
