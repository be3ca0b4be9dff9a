"""The one place where errors become HTTP answers, in each surface's shape.

The ceremony API answers {"error": code, "message"}; the vendor-compatible /v1 surface answers
{"error", "errorCode", "errorDescription"}, which its SDKs read.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from latchkey.errors import LatchkeyError

log = logging.getLogger("latchkey.api")

_HTTP_CODES = {
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
    409: "conflict",
    413: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def error_response(request: Request, status: int, code: str, message: str) -> JSONResponse:
    if request.url.path.startswith("/v1/"):
        body = {
            "error": _V1_CATEGORIES.get(status, "error"),
            "errorCode": code,
            "errorDescription": message,
        }
    else:
        body = {"error": code, "message": message}
    return JSONResponse(body, status_code=status)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LatchkeyError)
    return error_response(request, exc.status, exc.code, exc.message)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, 400, "invalid_json", "the request body is not valid JSON")
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    message = f"{where}: {first.get('msg', 'invalid value')}"
    return error_response(request, 400, "invalid_request", message)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(request, exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log (never request bodies or headers); the caller gets no detail.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LatchkeyError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
