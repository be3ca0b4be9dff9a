"""How errors become HTTP answers. Each surface (Router) declares its own shape:

- `PLAIN`: the ceremony API, the management API, association files: {"error": code, "message"},
  and `problems` ([{"field", "message"}]) when a check names every problem it found;
- `V1`: the vendor-compatible /v1 surface: {"error", "errorCode", "errorDescription"}, which its
  SDKs read;
- `OAUTH`: the token endpoint, userinfo, discovery: {"error", "error_description"};
- `POOL`: identity pools: {"error", "error_code", "status_code", "details"}.

A router passes `exception_handlers=errors.V1.handlers` (and so on). An error raised before any
route is chosen (an unknown path, a method the path does not serve, a Host Litestar refuses) is
answered by `APP_HANDLERS`, which finds the surface from the app's own routes (see `routing`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.types import ExceptionHandlersMap

from latchkey.api.challenges import www_authenticate
from latchkey.errors import LatchkeyError
from latchkey.runtime.ratelimit import RateLimited

log = logging.getLogger("latchkey.api")

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Exception], Response[Any]]
# (status, code, message) -> (status, body)
Shaper = Callable[[int, str, str], tuple[int, dict[str, Any]]]

_HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _plain(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": code, "message": message}


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


def _v1(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    category = _V1_CATEGORIES.get(status, "error")
    return status, {"error": category, "errorCode": code, "errorDescription": message}


# OAuth 2.0 error codes (RFC 6749 §5.2, RFC 6750 §3.1) for domain errors that are not OAuth's own.
_OAUTH_CODES = {401: "invalid_client", 429: "too_many_requests", 503: "temporarily_unavailable"}
_OAUTH_OWN = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_token",
    # The grant was proved but a policy refuses it (as Auth0's token endpoint answers).
    "access_denied",
}


def _oauth(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    if code not in _OAUTH_OWN and status != 404:
        code = _OAUTH_CODES.get(status, "invalid_request")
    # OAuth has no conflict: a taken identifier is an invalid_request.
    return (400 if status == 409 else status), {"error": code, "error_description": message}


def _pool(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    # The identity-pool products' shape: a human `error`, a machine `error_code`.
    return status, {"error": message, "error_code": code, "status_code": status, "details": {}}


@dataclass(frozen=True)
class Surface:
    """One error shape, and the exception handlers a Router declares to answer in it."""

    name: str
    shape: Shaper
    # Whether a 401 here gets the Authorization-header challenge (api/challenges.py); OAuth
    # and the pools answer their own.
    challenges: bool = False
    # Whether an error that found several problems lists them (`problems`) beside its message.
    lists_problems: bool = False
    handlers: ExceptionHandlersMap = field(init=False, compare=False)

    def __post_init__(self) -> None:
        handlers: ExceptionHandlersMap = {
            LatchkeyError: self._domain,
            ValidationException: self._validation,
            HTTPException: self._http,
            RecursionError: self._too_deep,
            Exception: self._unexpected,
        }
        object.__setattr__(self, "handlers", handlers)

    def response(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        status, body = self.shape(status, code, message)
        return Response(body, status_code=status, headers=headers)

    def _domain(self, request: AnyRequest, exc: Exception) -> Response[Any]:
        assert isinstance(exc, LatchkeyError)
        response = self.response(exc.status, exc.code, exc.message)
        if exc.problems and self.lists_problems:
            response.content["problems"] = [p.to_dict() for p in exc.problems]
        if isinstance(exc, RateLimited):
            response.headers["retry-after"] = str(exc.retry_after)
        if exc.status == 401 and self.challenges:
            challenge = www_authenticate(request.headers.get("authorization"), exc.message)
            if challenge is not None:
                response.headers["www-authenticate"] = challenge
        return response

    def _validation(self, request: AnyRequest, exc: Exception) -> Response[Any]:
        assert isinstance(exc, ValidationException)
        first: dict[str, Any] = exc.extra[0] if isinstance(exc.extra, list) and exc.extra else {}
        where = first.get("key") or "body"
        return self.response(400, "invalid_request", f"{where}: {first.get('message', exc.detail)}")

    def _http(self, request: AnyRequest, exc: Exception) -> Response[Any]:
        assert isinstance(exc, HTTPException)
        if isinstance(exc.__cause__, SerializationException):
            return self.response(400, "invalid_json", "the request body is not valid JSON")
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return self.response(exc.status_code, code, str(exc.detail), _headers_of(exc))

    def _too_deep(self, request: AnyRequest, exc: Exception) -> Response[Any]:
        # The JSON decoder stops at its recursion limit: a hostile body, not a server fault.
        return self.response(400, "invalid_json", "the JSON body is nested too deeply")

    def _unexpected(self, request: AnyRequest, exc: Exception) -> Response[Any]:
        if isinstance(exc.__cause__, RecursionError) or isinstance(exc, RecursionError):
            return self._too_deep(request, exc)
        # The traceback goes to the log (never request bodies or headers); the caller gets no
        # detail. The path comes from the scope: `request.url` parses the Host header.
        path = request.scope.get("path", "")
        log.error("unhandled error on %s %s", request.method, path, exc_info=exc)
        return self.response(500, "internal_error", "an unexpected error occurred")


def _headers_of(exc: HTTPException) -> dict[str, str]:
    """The exception's own headers go out with it: on a 405 the router's `Allow`, the methods
    the path serves (RFC 9110 §15.5.6), in a stable order."""
    headers = dict(exc.headers or {})
    if "allow" in headers:
        headers["allow"] = ", ".join(sorted(m.strip() for m in headers["allow"].split(",")))
    return headers


PLAIN = Surface("plain", _plain, challenges=True, lists_problems=True)
V1 = Surface("v1", _v1, challenges=True)
OAUTH = Surface("oauth", _oauth)
POOL = Surface("pool", _pool)
