"""Errors the SDK raises: one base class carrying what Latchkey answered."""

from __future__ import annotations


class LatchkeyError(Exception):
    """Latchkey refused the call, or could not be reached (`status_code` None)."""

    def __init__(
        self,
        description: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status_code = status_code
        self.error = error
        self.error_code = error_code

    def __str__(self) -> str:
        where = f"{self.status_code} " if self.status_code else ""
        code = f" [{self.error_code}]" if self.error_code else ""
        return f"{where}{self.description}{code}"


class BadRequest(LatchkeyError):
    """400: the request was malformed or a value was refused."""


class Unauthorized(LatchkeyError):
    """401: the secret key (or token) is missing, wrong or expired."""


class Forbidden(LatchkeyError):
    """403: the call is not allowed for this tenant or action."""


class NotFound(LatchkeyError):
    """404: no such user, authenticator or action."""


class Conflict(LatchkeyError):
    """409: the change conflicts with the current state."""


class RateLimited(LatchkeyError):
    """429: too many calls; retry after `retry_after` seconds."""

    retry_after: float | None = None


class ServerError(LatchkeyError):
    """5xx: Latchkey or its database is unavailable; the call may be retried."""


class TransportError(LatchkeyError):
    """Latchkey could not be reached, or the connection broke."""


_BY_STATUS: dict[int, type[LatchkeyError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: BadRequest,
    429: RateLimited,
}


def for_status(status: int) -> type[LatchkeyError]:
    return _BY_STATUS.get(status, ServerError if status >= 500 else LatchkeyError)
